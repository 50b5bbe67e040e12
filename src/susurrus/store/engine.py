"""Opening the journal database: engine set-up, SQLite hardening, migrations.

SQLite (the default) is opened with write-ahead logging, foreign keys on,
``synchronous=FULL`` (a committed transaction survives a crash or power loss),
a 30 s busy timeout and ``BEGIN IMMEDIATE`` transactions, so two processes
writing at once queue up instead of failing. A new database file is created
with mode 0600 (SQLite gives its ``-wal`` and ``-shm`` files the same mode) in a
0700 directory.

Migrations (Alembic, shipped in :mod:`susurrus.store.migrations`) run
programmatically on open, under a lock (``BEGIN IMMEDIATE`` on SQLite, an
advisory lock on PostgreSQL), so concurrent first opens are safe.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

from .errors import StoreError
from .paths import default_database_url

#: The newest migration shipped in ``migrations/versions`` (a test checks it).
HEAD_REVISION = "0003_accounts"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x5355_5355  # "SUSU": advisory lock serialising migrations


class Store:
    """An open journal database.

    Use :meth:`session` for a unit of work (committed on success, rolled back
    on error) and :meth:`close` when done. Prefer :func:`open_store`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"`` (or another SQLAlchemy dialect name)."""
        return self.engine.dialect.name

    @property
    def path(self) -> Path | None:
        """The SQLite file, or ``None`` for a server database or an in-memory one."""
        if self.dialect != "sqlite":
            return None
        db = self.engine.url.database
        return Path(db) if db and db != ":memory:" else None

    @contextmanager
    def session(self) -> Iterator[OrmSession]:
        """A unit of work: commits when the block ends, rolls back on an exception."""
        with self._sessions() as s, s.begin():
            yield s

    def integrity_check(self) -> str:
        """``"ok"`` when SQLite's ``PRAGMA integrity_check`` passes (always ``"ok"`` elsewhere)."""
        if self.dialect != "sqlite":
            return "ok"
        raw = self.engine.raw_connection()  # no BEGIN: the check needs no write lock
        try:
            cur = raw.cursor()
            rows = cur.execute("PRAGMA integrity_check").fetchall()
            cur.close()
        finally:
            raw.close()
        return "; ".join(str(r[0]) for r in rows)

    def revision(self) -> str | None:
        """The Alembic revision the database is at (``None`` if never migrated)."""
        with self.engine.connect() as conn:
            return _current_revision(conn)

    def close(self) -> None:
        """Release all connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"


def open_store(url: str | None = None, *, migrate: bool = True, echo: bool = False) -> Store:
    """Open (and create and migrate) the journal database.

    Parameters
    ----------
    url : str, optional
        A SQLAlchemy URL. Default: ``SUSURRUS_DATABASE_URL``, else the SQLite
        file in the user's data directory (see :mod:`susurrus.store.paths`).
    migrate : bool
        Bring the schema to the newest revision (default ``True``).
    echo : bool
        Log SQL (debugging).

    Raises
    ------
    StoreError
        When the URL is malformed, the driver is missing or the server refuses.
    """
    url = url or default_database_url()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"database URL {url!r} is malformed: {exc}") from None
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            _prepare_sqlite_file(Path(db))
        kwargs["connect_args"] = {"timeout": 30.0}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"no database driver for {parsed.drivername!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        _harden_sqlite(engine)
    store = Store(engine)
    if migrate:
        try:
            migrate_to_head(store)
        except DBAPIError as exc:
            engine.dispose()
            raise StoreError(f"cannot open database {store.url}: {exc.orig}") from None
    return store


def _prepare_sqlite_file(path: Path) -> None:
    path = path.expanduser()
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)


def _harden_sqlite(engine: Engine) -> None:
    memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA foreign_keys = ON")
        if not memory:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # take the write lock up front: a deferred transaction that later wants to
        # write fails with SQLITE_BUSY instead of waiting when another process wrote
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def alembic_config(connection: Connection | None = None) -> Any:
    """An Alembic ``Config`` pointing at the shipped migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def migrate_to_head(store: Store) -> None:
    """Upgrade the schema to :data:`HEAD_REVISION`, serialised across processes."""
    with store.engine.connect() as conn:
        if _current_revision(conn) == HEAD_REVISION:
            conn.rollback()
            return
        conn.rollback()
    from alembic import command

    with store.engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite: one migrator at a time
        if store.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        if _current_revision(conn) != HEAD_REVISION:
            command.upgrade(alembic_config(conn), "head")
