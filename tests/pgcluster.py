"""A throwaway PostgreSQL cluster for the tests: initdb into a temp directory, start it on a free
port, hand out one fresh database per test, stop and delete everything at the end of the session.

Debian's server binaries live in /usr/lib/postgresql/<major>/bin. initdb refuses to run as root,
so as root the cluster runs as the ``postgres`` system user (the Debian package creates it).
No mocks: the tests talk to a real server over TCP with psycopg 3.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


def server_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    bindir: Path
    datadir: Path
    port: int
    user: str
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def _cmd(self, *args: str) -> list[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        return ["runuser", "-u", self.run_as, "--", *cmd] if self.run_as else cmd

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        subprocess.run(
            self._cmd("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop"),
            capture_output=True,
            timeout=60,
        )


def start_cluster() -> tuple[Cluster | None, str]:
    """Start a cluster; returns (cluster, "") or (None, why not)."""
    bindir = server_bin()
    if bindir is None:
        return (
            None,
            "PostgreSQL server binaries not found (scripts/ensure-postgres.sh installs them)",
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None, "psycopg is not installed"
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root and there is no 'postgres' user to run initdb as"
        run_as = "postgres"
    base = Path(tempfile.mkdtemp(prefix="lecturelib-pg-"))
    datadir, sockdir = base / "data", base / "sock"
    sockdir.mkdir()
    if run_as:
        pw = pwd.getpwnam(run_as)
        os.chown(base, pw.pw_uid, pw.pw_gid)
        os.chown(sockdir, pw.pw_uid, pw.pw_gid)
    user = run_as or pwd.getpwuid(os.geteuid()).pw_name
    cluster = Cluster(bindir, datadir, free_port(), user, run_as)
    init = subprocess.run(
        cluster._cmd(
            "initdb",
            "-D",
            str(datadir),
            "-U",
            user,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        return None, "initdb failed: " + init.stderr.strip()[-400:]
    opts = (
        f"-p {cluster.port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    start = subprocess.run(
        cluster._cmd(
            "pg_ctl",
            "-D",
            str(datadir),
            "-o",
            opts,
            "-l",
            str(base / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        ),
        capture_output=True,
        text=True,
        timeout=90,
    )
    if start.returncode != 0:
        log = (
            (base / "server.log").read_text(errors="replace")[-400:]
            if (base / "server.log").exists()
            else ""
        )
        shutil.rmtree(base, ignore_errors=True)
        return None, "pg_ctl start failed: " + (start.stderr.strip() or log)
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(cluster.url, connect_timeout=2).close()
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                cluster.stop()
                shutil.rmtree(base, ignore_errors=True)
                return None, "the throwaway PostgreSQL server did not accept connections"
            time.sleep(0.2)
    return cluster, ""


def remove(cluster: Cluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.datadir.parent, ignore_errors=True)


# -- pytest fixtures (registered by conftest's pytest_plugins) ---------------------------------

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def pg_cluster():
    """The session's throwaway PostgreSQL cluster; tests using it skip when none can start."""
    cluster, why = start_cluster()
    if cluster is None:
        pytest.skip(f"PostgreSQL not available: {why}")
    yield cluster
    remove(cluster)


@pytest.fixture
def pg_url(pg_cluster):
    """A fresh, empty database of the throwaway cluster, dropped after the test."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture(scope="module")
def pg_module_url(pg_cluster):
    """A fresh, empty database shared by one test module (for module-scoped libraries),
    dropped after the module."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url)
