"""Throwaway PostgreSQL clusters for the failover tests: a primary started with Debian's own
server binaries on a loopback port, and a real streaming standby made by `pg_basebackup -R`
that the test promotes. Each runs as the `postgres` system user (the server refuses root)
from a directory under /tmp that user can reach, and is removed at the end."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_bin() -> Path:
    """The newest installed PostgreSQL's bin directory, or a skip saying what is missing."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if not found or not shutil.which("runuser"):
        pytest.skip("PostgreSQL's server binaries (Debian package postgresql) and runuser "
                    "are needed for the failover test")
    return found[-1].parent


def as_postgres(argv: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *map(str, argv)],
                          capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


@dataclass
class Cluster:
    root: Path
    name: str
    port: int

    @property
    def data(self) -> Path:
        return self.root / self.name

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args, check: bool = True) -> subprocess.CompletedProcess:
        done = as_postgres([server_bin() / "pg_ctl", "-D", self.data, *args])
        if check and done.returncode != 0:
            raise AssertionError(f"pg_ctl {' '.join(map(str, args))}: {done.stderr}\n"
                                 f"{self.log.read_text(errors='replace')[-2000:]}")
        return done

    def initdb(self, **settings) -> None:
        done = as_postgres([server_bin() / "initdb", "-D", self.data, "-A", "trust",
                            "-U", "postgres", "--no-sync"])
        assert done.returncode == 0, done.stderr
        self.configure(**settings)

    def configure(self, **settings) -> None:
        """Settings appended to postgresql.auto.conf (read last, so they win)."""
        lines = "".join(f"{k} = '{v}'\n" for k, v in settings.items())
        with (self.data / "postgresql.auto.conf").open("a") as fh:
            fh.write(lines)

    def start(self) -> None:
        self._ctl("-l", self.log, "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start")

    def running(self) -> bool:
        return self._ctl("status", check=False).returncode == 0

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop", check=False)

    def promote(self) -> None:
        self._ctl("-w", "promote")

    def standby_of(self, primary: "Cluster") -> None:
        """A streaming standby copied from the running primary (`pg_basebackup -R`)."""
        done = as_postgres([server_bin() / "pg_basebackup", "-h", "127.0.0.1", "-p",
                            primary.port, "-U", "postgres", "-D", self.data, "-R", "-X",
                            "stream", "-c", "fast", "--no-sync"], timeout=300)
        assert done.returncode == 0, done.stderr
        # The copy carries the primary's synchronous_standby_names; promoted, this node has
        # no standby of its own to wait for.
        self.configure(synchronous_standby_names="", application_name=self.name)

    def sql(self, query: str, database: str = "postgres") -> str:
        done = as_postgres([server_bin() / "psql", "-h", "127.0.0.1", "-p", self.port, "-U",
                            "postgres", "-d", database, "-Atc", query])
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


class Pair:
    """A primary with one synchronous streaming standby (what the appliance_db role makes)."""

    def __init__(self, ports: tuple[int, int]):
        self.root = Path(tempfile.mkdtemp(prefix="appliance-pg-", dir="/tmp"))
        shutil.chown(self.root, "postgres", "postgres")
        self.primary = Cluster(self.root, "primary", ports[0])
        self.standby = Cluster(self.root, "standby", ports[1])

    def start(self) -> "Pair":
        self.primary.initdb(synchronous_standby_names="*", synchronous_commit="on",
                            wal_level="replica", max_wal_senders="5", hot_standby="on")
        self.primary.start()
        self.standby.standby_of(self.primary)
        self.standby.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = self.primary.sql("SELECT sync_state FROM pg_stat_replication")
            if state == "sync":
                return self
            time.sleep(0.2)
        raise AssertionError(f"the standby did not attach as synchronous: {state!r}")

    def url(self, database: str) -> str:
        """The libpq multi-host URL nodes use: whichever host accepts writes."""
        return (f"postgresql://postgres@127.0.0.1:{self.primary.port},"
                f"127.0.0.1:{self.standby.port}/{database}?target_session_attrs=read-write")

    def close(self) -> None:
        for cluster in (self.standby, self.primary):
            if cluster.data.exists():
                cluster.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
