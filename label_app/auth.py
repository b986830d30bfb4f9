"""Who may log in to the label app.

Users come from `FRAUD_LABEL_APP_USERS` ("alice:secret,bob:other") and/or the file named by
`FRAUD_LABEL_APP_USERS_FILE` (one `user:password` a line; blank lines and lines starting with # are ignored).
A password may be stored as a PBKDF2 hash instead of in clear: print one with

    python -m label_app.auth hash            (asks for the password)

and write `user:pbkdf2_sha256$<iterations>$<salt>$<hash>`. When no user is configured at all, the app allows the
demo user analyst/analyst on a loopback address only, and prints a warning.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

DEMO_USER = ("analyst", "analyst")
HASH_PREFIX = "pbkdf2_sha256"
HASH_ITERATIONS = 200_000


class UsersConfigError(ValueError):
    """The users setting or file cannot be read."""


def parse_users(text: str, origin: str) -> dict[str, str]:
    """`user:password` entries separated by commas or new lines -> {user: password or hash}."""
    users: dict[str, str] = {}
    for number, entry in enumerate(text.replace(",", "\n").splitlines(), start=1):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        user, separator, password = entry.partition(":")
        user = user.strip()
        if not separator or not user or not password:
            raise UsersConfigError(
                f"{origin}: entry {number} ({user or entry!r}) is not 'user:password'; write one user:password per "
                "entry, e.g. alice:secret")
        users[user] = password
    return users


def load_users(users_spec: str = "", users_file: str | Path | None = None) -> dict[str, str]:
    """Users of the env var and of the file together (the file wins for a user named in both)."""
    users = parse_users(users_spec, "FRAUD_LABEL_APP_USERS") if users_spec.strip() else {}
    if users_file:
        path = Path(users_file)
        if not path.is_file():
            raise UsersConfigError(f"FRAUD_LABEL_APP_USERS_FILE={users_file}: no such file; create it with one "
                                   "user:password a line, or unset the variable")
        # In a file a comma may be part of a password, so entries are lines only.
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            line = line.strip()
            if line and not line.startswith("#"):
                user, separator, password = line.partition(":")
                if not separator or not user.strip() or not password:
                    raise UsersConfigError(f"{path}:{number} is not 'user:password'")
                users[user.strip()] = password
    return users


def hash_password(password: str, iterations: int = HASH_ITERATIONS, salt: str | None = None) -> str:
    """A PBKDF2-SHA256 hash of `password` to store in the users file instead of the password."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()
    return f"{HASH_PREFIX}${iterations}${salt}${digest}"


def password_matches(stored: str, given: str) -> bool:
    """Compare in constant time against a clear-text or a `pbkdf2_sha256$...` stored password."""
    if stored.startswith(HASH_PREFIX + "$"):
        try:
            _, iterations, salt, _ = stored.split("$")
            expected = hash_password(given, int(iterations), salt)
        except ValueError:
            return False
        return hmac.compare_digest(stored, expected)
    return hmac.compare_digest(stored.encode(), given.encode())


def make_authenticator(users: dict[str, str]) -> Callable[[str, str], bool]:
    """The `auth=` function for Gradio's launch()."""

    def authenticate(username: str, password: str) -> bool:
        stored = users.get(username)
        return stored is not None and password_matches(stored, password)

    return authenticate


def users_or_demo(users: dict[str, str], host: str) -> dict[str, str]:
    """The configured users, or the demo user when none is configured (loopback hosts only, with a warning)."""
    if users:
        return users
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise UsersConfigError(
            f"no users configured and the app would listen on {host}: set FRAUD_LABEL_APP_USERS or "
            "FRAUD_LABEL_APP_USERS_FILE (the demo user is only allowed on 127.0.0.1)")
    print(f"WARNING: no users configured (FRAUD_LABEL_APP_USERS, FRAUD_LABEL_APP_USERS_FILE); the demo user "
          f"{DEMO_USER[0]}/{DEMO_USER[1]} may log in. Configure real users before anyone else labels.", file=sys.stderr)
    return {DEMO_USER[0]: DEMO_USER[1]}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["hash"]:
        print("usage: python -m label_app.auth hash   (prints a hash to use as the password in the users file)",
              file=sys.stderr)
        return 2
    print(hash_password(getpass.getpass("password: ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
