"""What the screenshot commands share: the repository's docs/screenshots folder, their options, a free local port."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from tools.screenshots.chromium import find_chromium

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPOSITORY_ROOT / "docs" / "screenshots"


def parse_arguments(argv: list[str] | None, prog: str, description: str, data_dir_help: str) -> argparse.Namespace:
    """The options --out, --data-dir and --chromium; exits with status 2 when Chromium is not at --chromium."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the PNGs (default {DEFAULT_OUT})")
    parser.add_argument("--data-dir", type=Path, help=data_dir_help)
    parser.add_argument("--chromium", default=find_chromium() or "/usr/bin/chromium",
                        help="the Chromium executable (default %(default)s)")
    arguments = parser.parse_args(argv)
    if not Path(arguments.chromium).exists():
        parser.error(f"Chromium not found at {arguments.chromium}; install it (apt-get install -y chromium) "
                     "or pass --chromium")
    return arguments


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
