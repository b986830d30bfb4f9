"""A throwaway local PostgreSQL cluster: for trying the team deployment (`FRAUD_DATABASE_URL`) on one machine, and
for the tests that need a real server.

    python -m fraud_assets.cli.local_postgres start [--folder data/postgres] [--port N]
    eval "$(python -m fraud_assets.cli.local_postgres start)"     # the same, exporting FRAUD_DATABASE_URL
    python -m fraud_assets.cli.local_postgres url  [--folder ...]  # print the export line again
    python -m fraud_assets.cli.local_postgres stop [--folder ...]

`start` runs `initdb` into `<folder>/data` (once), starts the server with `pg_ctl` and creates the role `fraud`
(LOGIN, CREATEDB, a random password) and the database `fraud` it owns; it prints one line,
`export FRAUD_DATABASE_URL=postgresql://fraud:<password>@127.0.0.1:<port>/fraud`. Running it again returns the same
cluster (starting it when stopped). The port, role, password and database are kept in `<folder>/cluster.json`
(mode 0600), the server's log in `<folder>/postgres.log`. The default folder is `$FRAUD_DATA_DIR/postgres`.

This is not a production server and refuses to be one: it listens on 127.0.0.1 only, the unix socket lives in
`<folder>` (mode 0700, so only its owner and root reach it) with `trust` authentication, and TCP connections need
the role's password (scram-sha-256). Stop it with `stop` (a fast shutdown; a server that does not stop in time is
killed); delete the folder to throw the data away.

PostgreSQL's tools refuse to run as root: as root, `initdb` and `pg_ctl` run as the `postgres` OS user (which Debian's
`postgresql` package creates), and the folder is handed to that user. The binaries are found through
`FRAUD_POSTGRES_BIN`, `pg_config --bindir`, `/usr/lib/postgresql/<version>/bin` or `initdb` on PATH.
"""

from __future__ import annotations

import argparse
import dataclasses
import grp
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from fraud_assets.core.processes import kill_processes, process_tree
from fraud_assets.core.settings import Settings

POSTGRES_BIN_ENV = "FRAUD_POSTGRES_BIN"
POSTGRES_OS_USER = "postgres"  # the OS user the server runs as when we are root, and the cluster's superuser
DEBIAN_POSTGRES_ROOT = Path("/usr/lib/postgresql")
CLUSTER_FILE = "cluster.json"
LOG_FILE = "postgres.log"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30
UNIX_SOCKET_PATH_LIMIT = 107  # sun_path is 108 bytes on Linux, including the terminating NUL
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
INSTALL_HINT = (f"install Debian's postgresql package (apt-get install -y postgresql) or set {POSTGRES_BIN_ENV} to "
                "the folder holding initdb and pg_ctl")


class LocalPostgresError(RuntimeError):
    """A local cluster could not be set up, started, reached or stopped; the message says why and what to do."""


class PostgresNotInstalled(LocalPostgresError):
    """No PostgreSQL server binaries (initdb, pg_ctl) on this machine."""


class PortTaken(LocalPostgresError):
    """The cluster's port is in use by another program."""


@dataclass(frozen=True)
class LocalCluster:
    """Where a local cluster lives and how to connect to it over TCP."""

    folder: Path
    port: int
    user: str
    password: str
    database: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    @property
    def masked_url(self) -> str:
        return f"postgresql://{self.user}:***@127.0.0.1:{self.port}/{self.database}"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        return self.folder / LOG_FILE


# --- finding the binaries -----------------------------------------------------------------------------------------


def has_server_tools(folder: Path) -> bool:
    return (folder / "initdb").is_file() and (folder / "pg_ctl").is_file()


def pg_config_bindir() -> Path | None:
    """`pg_config --bindir` when it names a folder with initdb (libpq-dev's pg_config alone names /usr/bin)."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        completed = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    folder = Path(completed.stdout.strip())
    return folder if completed.returncode == 0 and has_server_tools(folder) else None


def newest_debian_bindir() -> Path | None:
    """The highest version's bin folder under /usr/lib/postgresql (Debian installs versions side by side)."""
    candidates = [path for path in DEBIAN_POSTGRES_ROOT.glob("*/bin") if path.parent.name.isdigit()]
    candidates = [path for path in candidates if has_server_tools(path)]
    return max(candidates, key=lambda path: int(path.parent.name), default=None)


def path_initdb_bindir() -> Path | None:
    """The folder of `initdb` on PATH, following symlinks to the folder that also holds pg_ctl and postgres."""
    initdb = shutil.which("initdb")
    if initdb is None:
        return None
    for folder in (Path(initdb).resolve().parent, Path(initdb).parent):
        if has_server_tools(folder):
            return folder
    return None


def find_postgres_bin() -> Path:
    """The folder holding initdb and pg_ctl, or PostgresNotInstalled saying how to install them."""
    configured = os.environ.get("FRAUD_POSTGRES_BIN", "").strip()
    if configured:
        if has_server_tools(Path(configured)):
            return Path(configured)
        raise PostgresNotInstalled(f"{POSTGRES_BIN_ENV}={configured} holds no initdb and pg_ctl: set it to the "
                                   "folder holding them, or unset it to search the usual places")
    for finder in (pg_config_bindir, newest_debian_bindir, path_initdb_bindir):
        folder = finder()
        if folder is not None:
            return folder
    raise PostgresNotInstalled(f"PostgreSQL's server is not installed (no initdb or pg_ctl found): {INSTALL_HINT}")


def psql_binary() -> str:
    """psql from the server's folder, else from PATH."""
    try:
        candidate = find_postgres_bin() / "psql"
    except PostgresNotInstalled:
        candidate = None
    if candidate is not None and candidate.is_file():
        return str(candidate)
    found = shutil.which("psql")
    if found is None:
        raise PostgresNotInstalled(f"psql is not installed: {INSTALL_HINT}")
    return found


# --- running the server's tools as the right OS user --------------------------------------------------------------


def running_as_root() -> bool:
    return os.geteuid() == 0


def postgres_os_user() -> pwd.struct_passwd:
    """The `postgres` OS user the server runs as when we are root."""
    try:
        return pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError:
        raise LocalPostgresError(f"running as root, the server must run as the OS user {POSTGRES_OS_USER!r}, which "
                                 f"does not exist: {INSTALL_HINT} (the package creates the user)") from None


def as_server_user(command: list[str]) -> list[str]:
    """The command, run as the postgres OS user when we are root (initdb and pg_ctl refuse root)."""
    if not running_as_root():
        return command
    postgres_os_user()
    if shutil.which("runuser"):
        return ["runuser", "-u", POSTGRES_OS_USER, "--", *command]
    return ["su", POSTGRES_OS_USER, "-s", "/bin/sh", "-c", shlex.join(command)]


def run_server_tool(command: list[str], folder: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run initdb or pg_ctl (as the server's OS user), from inside the cluster folder (root's cwd may be closed)."""
    return subprocess.run(as_server_user(command), cwd=folder, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def can_traverse(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether that OS user may enter the folder, by its owner, group and mode bits."""
    status = path.stat()
    groups = {user.pw_gid, *(group.gr_gid for group in grp.getgrall() if user.pw_name in group.gr_mem)}
    if status.st_uid == user.pw_uid:
        return bool(status.st_mode & stat.S_IXUSR)
    if status.st_gid in groups:
        return bool(status.st_mode & stat.S_IXGRP)
    return bool(status.st_mode & stat.S_IXOTH)


def blocking_ancestor(folder: Path) -> Path | None:
    """The first parent of the folder the postgres OS user cannot enter (only matters when we are root), or None."""
    if not running_as_root():
        return None
    user = postgres_os_user()
    for parent in reversed(folder.resolve().parents):
        if not can_traverse(parent, user):
            return parent
    return None


def prepare_folder(folder: Path) -> None:
    """Create the cluster folder, mode 0700, owned by the OS user the server runs as."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    if not running_as_root():
        return
    user = postgres_os_user()
    blocked = blocking_ancestor(folder)
    if blocked is not None:
        mode = stat.filemode(blocked.stat().st_mode)
        raise LocalPostgresError(f"the server runs as the OS user {POSTGRES_OS_USER!r}, which cannot enter {blocked} "
                                 f"({mode}): make it enterable (chmod o+x {blocked}) or choose a --folder elsewhere")
    os.chown(folder, user.pw_uid, user.pw_gid)


# --- the cluster's files ------------------------------------------------------------------------------------------


def is_initialized(folder: Path) -> bool:
    return (folder / "data" / "PG_VERSION").is_file()


def write_cluster_file(cluster: LocalCluster) -> None:
    """Keep port, role, password and database beside the data, readable by the owner only."""
    path = cluster.folder / CLUSTER_FILE
    record = {"port": cluster.port, "user": cluster.user, "password": cluster.password, "database": cluster.database}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(record, handle, indent=2)
    os.chmod(path, 0o600)


def read_cluster(folder: Path) -> LocalCluster:
    """The cluster recorded in the folder, or an error saying to start one."""
    folder = folder.resolve()
    path = folder / CLUSTER_FILE
    if not path.is_file() and is_initialized(folder):
        raise LocalPostgresError(f"{folder / 'data'} holds a cluster but {path} is missing (was its set-up "
                                 f"interrupted?): stop it and delete {folder} to start afresh")
    if not path.is_file():
        raise LocalPostgresError(f"no local cluster in {folder} (no {CLUSTER_FILE}): run "
                                 f"`python -m fraud_assets.cli.local_postgres start --folder {folder}` first")
    try:
        record = json.loads(path.read_text())
        return LocalCluster(folder=folder, port=int(record["port"]), user=record["user"],
                            password=record["password"], database=record["database"])
    except (ValueError, KeyError, TypeError) as error:
        raise LocalPostgresError(f"{path} is damaged ({error}): stop the cluster and delete {folder} to start "
                                 "afresh") from None


def server_settings(folder: Path, port: int) -> str:
    """The lines appended to postgresql.conf: 127.0.0.1 only, the socket inside the folder, the chosen port."""
    socket_dir = str(folder).replace("'", "''")
    return (f"\n# fraud_assets.cli.local_postgres: a local throwaway cluster, reachable from this machine only\n"
            f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{socket_dir}'\n")


# --- ports --------------------------------------------------------------------------------------------------------


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:port can be bound now, as the server binds it: with SO_REUSEADDR, so that connections of
    a server just stopped (TIME_WAIT) do not count, while a program listening on it does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_port(port: int, folder: Path) -> None:
    if not 1 <= port <= 65535:
        raise LocalPostgresError(f"port {port} is not a TCP port (1-65535)")
    if not port_is_free(port):
        raise PortTaken(f"port {port} on 127.0.0.1 is taken by another program: choose another with --port, or "
                        f"stop that program (cluster folder {folder})")


# --- starting -----------------------------------------------------------------------------------------------------


def is_running(folder: Path) -> bool:
    """Whether the cluster's postmaster is alive."""
    return is_initialized(folder) and postmaster_pid(folder / "data") is not None


def failure_detail(completed: subprocess.CompletedProcess[str]) -> str:
    """The last lines a tool wrote, on one line."""
    lines = [line.strip() for line in (completed.stderr + completed.stdout).splitlines() if line.strip()]
    return " / ".join(lines[-3:]) or f"exit code {completed.returncode}"


def last_log_line(folder: Path) -> str:
    try:
        lines = [line for line in (folder / LOG_FILE).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def initialize(folder: Path, port: int, user: str, database: str) -> LocalCluster:
    """initdb into folder/data, with trust on the socket, scram-sha-256 over TCP and the server settings."""
    cluster = LocalCluster(folder=folder, port=port, user=user, password=secrets.token_urlsafe(24), database=database)
    initdb = str(find_postgres_bin() / "initdb")
    command = [initdb, "-D", str(cluster.data_dir), "-U", POSTGRES_OS_USER, "-E", "UTF8", "--locale=C",
               "--auth-local=trust", "--auth-host=scram-sha-256"]
    try:
        completed = run_server_tool(command, folder, timeout=300)
    except subprocess.TimeoutExpired:
        raise LocalPostgresError(f"initdb into {cluster.data_dir} did not finish in 300 s") from None
    if completed.returncode != 0:
        raise LocalPostgresError(f"initdb into {cluster.data_dir} failed: {failure_detail(completed)}")
    config = cluster.data_dir / "postgresql.conf"
    with config.open("a") as handle:  # as root this file belongs to postgres; appending keeps its owner and mode
        handle.write(server_settings(folder, port))
    write_cluster_file(cluster)
    return cluster


def start_server(cluster: LocalCluster, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """`pg_ctl -w start`; on failure nothing is left running and the error names the log file."""
    check_port(cluster.port, cluster.folder)
    pg_ctl = str(find_postgres_bin() / "pg_ctl")
    command = [pg_ctl, "start", "-w", "-t", str(int(timeout)), "-D", str(cluster.data_dir), "-l", str(cluster.log_file)]
    try:
        completed = run_server_tool(command, cluster.folder, timeout=timeout + 15)
        problem = None if completed.returncode == 0 else failure_detail(completed)
    except subprocess.TimeoutExpired:
        problem = f"pg_ctl did not return in {timeout + 15:.0f} s"
    if problem is not None:
        stop_cluster(cluster.folder)
        reason = last_log_line(cluster.folder) or problem
        raise LocalPostgresError(f"the server in {cluster.data_dir} did not start: {reason} (see {cluster.log_file})")


def ensure_role_and_database(cluster: LocalCluster) -> None:
    """Create the login role (with its password) and its database when missing, through the trusted socket."""
    sql = (f"SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '{cluster.user}', '{cluster.password}') "
           f"WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{cluster.user}')\\gexec\n"
           f"SELECT format('CREATE DATABASE %I OWNER %I', '{cluster.database}', '{cluster.user}') "
           f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{cluster.database}')\\gexec\n")
    command = [psql_binary(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(cluster.folder), "-p", str(cluster.port),
               "-U", POSTGRES_OS_USER, "-d", "postgres"]
    completed = subprocess.run(command, input=sql, capture_output=True, text=True, timeout=60)
    if completed.returncode != 0:
        raise LocalPostgresError(f"creating the role {cluster.user!r} and database {cluster.database!r} failed: "
                                 f"{failure_detail(completed)} (see {cluster.log_file})")


def check_names(user: str, database: str) -> None:
    for kind, name in (("role", user), ("database", database)):
        if not IDENTIFIER.fullmatch(name):
            raise LocalPostgresError(f"{kind} name {name!r} must be lower-case letters, digits and _ (not first)")


def check_socket_path(folder: Path) -> None:
    socket_path = folder / ".s.PGSQL.65535"
    if len(os.fsencode(socket_path)) > UNIX_SOCKET_PATH_LIMIT:
        raise LocalPostgresError(f"the folder path {folder} is too long for the server's unix socket (at most "
                                 f"{UNIX_SOCKET_PATH_LIMIT - 16} characters): choose a shorter --folder")


def start_cluster(folder: Path, port: int | None = None, user: str = "fraud", database: str = "fraud") -> LocalCluster:
    """Start the cluster in the folder, creating it first when new; a running one is returned as it is."""
    folder = folder.resolve()
    check_names(user, database)
    check_socket_path(folder)
    find_postgres_bin()
    if not is_initialized(folder):
        port = free_port() if port is None else port
        check_port(port, folder)  # before touching the disk
        prepare_folder(folder)
        cluster = initialize(folder, port, user, database)
    else:
        cluster = read_cluster(folder)
        if port is not None and port != cluster.port:
            raise LocalPostgresError(f"the cluster in {folder} uses port {cluster.port}, not {port}: omit --port, or "
                                     f"stop it and delete {folder} to make a new one")
        if (user, database) != (cluster.user, cluster.database):
            raise LocalPostgresError(f"the cluster in {folder} serves role {cluster.user!r} and database "
                                     f"{cluster.database!r}: stop it and delete {folder} to make another")
        prepare_folder(folder)
    if not is_running(folder):
        start_server(cluster)
    try:
        ensure_role_and_database(cluster)
    except (LocalPostgresError, subprocess.TimeoutExpired):
        stop_cluster(folder)
        raise
    return cluster


# --- stopping -----------------------------------------------------------------------------------------------------


def postmaster_pid(data_dir: Path) -> int | None:
    """The pid recorded in data/postmaster.pid when that process is a live postgres serving this data folder."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        process = psutil.Process(pid)
        serves_this_folder = str(data_dir) in " ".join(process.cmdline()) or process.cwd() == str(data_dir)
    except (OSError, ValueError, IndexError, psutil.Error):
        return None
    return pid if serves_this_folder else None


def kill_postmaster(data_dir: Path) -> None:
    """SIGKILL the postmaster and every process it started (each child is a session leader of its own, so killing
    the postmaster's process group is not enough), then wait for them to go."""
    pid = postmaster_pid(data_dir)
    if pid is not None:
        kill_processes(process_tree(pid))


def stop_cluster(folder: Path, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """Stop the cluster (fast shutdown), killing it when it does not stop in time; a stopped cluster is fine."""
    folder = folder.resolve()
    data_dir = folder / "data"
    if not is_initialized(folder) or postmaster_pid(data_dir) is None:
        return
    pg_ctl = str(find_postgres_bin() / "pg_ctl")
    command = [pg_ctl, "stop", "-m", "fast", "-w", "-t", str(int(timeout)), "-D", str(data_dir)]
    try:
        run_server_tool(command, folder, timeout=timeout + 5)
    except subprocess.TimeoutExpired:
        pass  # killed below
    deadline = time.monotonic() + 1  # pg_ctl -w returns once the server is gone; a moment's grace, then kill
    while postmaster_pid(data_dir) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    kill_postmaster(data_dir)


# --- running SQL over TCP (tests, checks) ---------------------------------------------------------------------------


def run_sql(cluster: LocalCluster, sql: str, database: str | None = None, timeout: float = 60) -> str:
    """Run SQL as the cluster's role over TCP (the password goes through the environment, never argv); the
    unaligned, tuples-only output."""
    database = database or cluster.database
    command = [psql_binary(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
               "-p", str(cluster.port), "-U", cluster.user, "-d", database]
    environment = {**os.environ, "PGPASSWORD": cluster.password, "PGCONNECT_TIMEOUT": "10"}
    completed = subprocess.run(command, input=sql, capture_output=True, text=True, timeout=timeout, env=environment)
    if completed.returncode != 0:
        raise LocalPostgresError(f"SQL on {dataclasses.replace(cluster, database=database).masked_url} failed: "
                                 f"{failure_detail(completed)}")
    return completed.stdout.strip()


# --- command line -------------------------------------------------------------------------------------------------


def export_line(cluster: LocalCluster) -> str:
    return f"export FRAUD_DATABASE_URL={shlex.quote(cluster.url)}"


def default_folder() -> Path:
    """$FRAUD_DATA_DIR/postgres, through the one place settings are read."""
    return Settings.from_env().data_dir / "postgres"


def run_command(args: argparse.Namespace) -> None:
    folder = (args.folder or default_folder()).resolve()
    if args.command == "start":
        cluster = start_cluster(folder, port=args.port)
        print(export_line(cluster))
        print(f"local PostgreSQL at {cluster.masked_url}, data in {cluster.data_dir}, log {cluster.log_file}; "
              f"stop it with: python -m fraud_assets.cli.local_postgres stop --folder {folder}", file=sys.stderr)
    elif args.command == "url":
        cluster = read_cluster(folder)
        print(export_line(cluster))
        if not is_running(folder):
            print(f"the cluster in {folder} is stopped: start it with "
                  f"python -m fraud_assets.cli.local_postgres start --folder {folder}", file=sys.stderr)
    elif not is_initialized(folder):
        print(f"no local cluster in {folder}: nothing to stop", file=sys.stderr)
    else:
        stop_cluster(folder)
        print(f"the local PostgreSQL cluster in {folder} is stopped", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fraud_assets.cli.local_postgres",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("start", "start (creating when new) the cluster and print the export line"),
                            ("url", "print the export line of the cluster"),
                            ("stop", "stop the cluster")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--folder", type=Path, default=None,
                             help="where the cluster lives (default: $FRAUD_DATA_DIR/postgres)")
        if name == "start":
            command.add_argument("--port", type=int, default=None, help="TCP port on 127.0.0.1 (default: a free one)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        run_command(args)
    except (LocalPostgresError, ValueError, OSError) as error:  # ValueError: a bad FRAUD_* setting
        print(f"local_postgres {args.command}: {error}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as error:
        print(f"local_postgres {args.command}: {shlex.join(map(str, error.cmd))} did not finish in "
              f"{error.timeout:.0f} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
