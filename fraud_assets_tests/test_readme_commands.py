"""The README stays true: CI runs its two commands as written, every `make` target it names exists, and its
configuration table lists every environment variable the code reads."""

import re
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
README = (REPOSITORY_ROOT / "README.md").read_text()
ENV_READERS = re.compile(r"(?:env_str|env_number|env_switch|environ\.get|environ\[|getenv)"
                         r"""\(?\s*["']((?:FRAUD|BENTOML)_[A-Z_]+)["']""")


def the_two_commands() -> list[str]:
    section = README.split("## The two commands", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def ci_commands() -> list[str]:
    lines = (REPOSITORY_ROOT / ".ci" / "run").read_text().splitlines()
    return [line.strip() for line in lines if line.strip().startswith("make ")]


def test_ci_runs_the_readmes_two_commands_as_written_in_order():
    assert the_two_commands() == ["make run", "make test"]
    assert ci_commands() == the_two_commands()


def test_every_make_target_the_readme_names_exists():
    makefile = (REPOSITORY_ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    named = (set(re.findall(r"`make ([a-z][a-z-]*)", README))
             | set(re.findall(r"^make ([a-z][a-z-]*)", README, flags=re.M)))
    assert named, "the README names no make target"
    assert named <= targets, f"the README names make targets the Makefile lacks: {sorted(named - targets)}"


def test_the_configuration_table_lists_every_variable_the_code_reads():
    sources = [path for folder in ("fraud_assets", "bento", "label_app")
               for path in (REPOSITORY_ROOT / folder).rglob("*.py")]
    read = {name for path in sources for name in ENV_READERS.findall(path.read_text())}
    assert {"FRAUD_DATA_DIR", "FRAUD_DAGSTER_PORT", "FRAUD_SERVICE_API_KEY", "FRAUD_LABEL_APP_USERS"} <= read
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.M))
    assert read - documented == set(), f"read by the code but not in the README's table: {sorted(read - documented)}"
    assert documented - read == set(), f"in the README's table but read nowhere: {sorted(documented - read)}"
