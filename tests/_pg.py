"""Database fixtures for the journal/storage tests: SQLite files and a real PostgreSQL.

``pg_url`` starts a throwaway PostgreSQL server once per test session with
``scripts/pg_test_server.sh`` (which installs PostgreSQL with apt when it is
missing) and stops it at the end; a watchdog stops it too if pytest dies.
When the server cannot start, the tests that need it FAIL — they never skip.
Set ``SUSURRUS_TEST_PG_URL`` to use an existing server instead.

Import the fixtures into a test module with ``from _pg import *``.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from susurrus.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "pg_test_server.sh"
BACKENDS = ("sqlite", "postgresql")


_SERVER: dict[str, object] = {}  # shared by every test module that imports this fixture


def _start_server() -> str:
    if "url" in _SERVER:
        _SERVER["refs"] = int(str(_SERVER["refs"])) + 1
        return str(_SERVER["url"])
    try:
        r = subprocess.run(
            ["bash", str(SCRIPT), "start", str(os.getpid())],
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"PostgreSQL test server could not start: {exc}", pytrace=False)
    if r.returncode != 0:
        pytest.fail(
            f"PostgreSQL test server could not start (exit {r.returncode}):\n{r.stderr}",
            pytrace=False,
        )
    url, cluster = r.stdout.split()[:2]
    _SERVER.update(url=url, cluster=cluster, refs=1)
    return url


def _release_server() -> None:
    _SERVER["refs"] = int(str(_SERVER["refs"])) - 1
    if int(str(_SERVER["refs"])) == 0:
        subprocess.run(
            ["bash", str(SCRIPT), "stop", str(_SERVER["cluster"])],
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        _SERVER.clear()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a running PostgreSQL server (started here; failing loudly if it cannot)."""
    given = os.environ.get("SUSURRUS_TEST_PG_URL")
    if given:
        yield given
        return
    url = _start_server()
    try:
        yield url
    finally:
        _release_server()


@pytest.fixture(scope="session")
def pg_store(pg_url: str) -> Iterator[Store]:
    """One migrated PostgreSQL store for the session (tests use unique profile names)."""
    s = open_store(pg_url)
    yield s
    s.close()


def fresh_pg_database(pg_url: str) -> str:
    """Create an empty database on the test server; return its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on each backend: a fresh SQLite file, or the session's PostgreSQL."""
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'journal.db'}")
        yield s
        s.close()
    else:
        yield request.getfixturevalue("pg_store")


def unique(prefix: str = "p") -> str:
    """A profile name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


__all__ = ["BACKENDS", "fresh_pg_database", "pg_store", "pg_url", "store", "unique"]
