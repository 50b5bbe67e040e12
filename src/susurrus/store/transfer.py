"""Export, import and delete everything a profile owns — walking the schema generically.

A table belongs to a profile when it has a foreign key to ``profiles.id`` or to
another table that belongs to a profile (``hr_samples`` → ``hr_recordings`` →
``profiles``). Tables added later (the listener model's ratings, say) are
included without touching this module.

The JSON export replaces database ids by export-local ids (1, 2, … in the
order of the original ids, per table) and foreign keys by the matching local
ids, so an export does not depend on which database it came from, and
export → delete → import → export gives the same document apart from
``exported_at``. Import runs in one transaction: it succeeds whole or leaves
the database untouched.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Date, DateTime, Select, Table, delete, insert, select
from sqlalchemy.engine import Connection

from .engine import HEAD_REVISION, Store
from .errors import ExportFormatError, ProfileExistsError, ProfileNotFoundError
from .models import Base, UTCDateTime, utcnow

EXPORT_FORMAT = "susurrus-profile-export"
EXPORT_VERSION = 1
PROFILES = "profiles"


@dataclass(frozen=True)
class OwnedTable:
    """A table that belongs to a profile, and the foreign key that says so."""

    table: Table
    owner_column: Column[Any]
    parent: str

    @property
    def name(self) -> str:
        return self.table.name


def profile_tables(metadata: Any = None) -> list[OwnedTable]:
    """The tables that belong to a profile, parents before children."""
    md = metadata if metadata is not None else Base.metadata
    owned: dict[str, OwnedTable] = {}
    for table in md.sorted_tables:
        if table.name == PROFILES:
            continue
        choice: OwnedTable | None = None
        for fk in sorted(
            table.foreign_keys, key=lambda f: (f.column.table.name != PROFILES, f.parent.nullable)
        ):
            parent = fk.column.table.name
            if parent == PROFILES or parent in owned:
                choice = OwnedTable(table, fk.parent, parent)
                break
        if choice is not None:
            owned[table.name] = choice
    return list(owned.values())


def _ids_query(store_tables: Mapping[str, OwnedTable], name: str, profile_id: int) -> Select[Any]:
    profiles = Base.metadata.tables[PROFILES]
    if name == PROFILES:
        return select(profiles.c.id).where(profiles.c.id == profile_id)
    ot = store_tables[name]
    return select(ot.table.c.id).where(
        ot.owner_column.in_(_ids_query(store_tables, ot.parent, profile_id))
    )


def _fk_parent(col: Column[Any]) -> str | None:
    for fk in col.foreign_keys:
        return fk.column.table.name
    return None


def _encode(col: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(col.type, UTCDateTime | DateTime | Date):
        return value.isoformat()
    return value


def _decode(col: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    try:
        if isinstance(col.type, UTCDateTime):
            v = dt.datetime.fromisoformat(value)
            if v.tzinfo is None:
                raise ValueError("a point in time needs its UTC offset")
            return v
        if isinstance(col.type, DateTime):
            return dt.datetime.fromisoformat(value)
        if isinstance(col.type, Date):
            return dt.date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ExportFormatError(f"{col.table.name}.{col.name}={value!r}: {exc}") from None
    return value


def _profile_id(conn: Connection, name: str) -> int:
    profiles = Base.metadata.tables[PROFILES]
    row = conn.execute(select(profiles.c.id).where(profiles.c.name == name)).first()
    if row is None:
        raise ProfileNotFoundError(name)
    return int(row[0])


def _dump_rows(
    conn: Connection, profile_id: int
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    profiles = Base.metadata.tables[PROFILES]
    prow = conn.execute(select(profiles).where(profiles.c.id == profile_id)).mappings().one()
    profile = {c.name: _encode(c, prow[c.name]) for c in profiles.columns if c.name != "id"}
    tables = profile_tables()
    by_name = {t.name: t for t in tables}
    local: dict[str, dict[int, int]] = {}
    out: dict[str, list[dict[str, Any]]] = {}
    for ot in tables:
        t = ot.table
        rows = (
            conn.execute(
                select(t)
                .where(t.c.id.in_(_ids_query(by_name, t.name, profile_id)))
                .order_by(t.c.id)
            )
            .mappings()
            .all()
        )
        ids = {int(r["id"]): i + 1 for i, r in enumerate(rows)}
        local[t.name] = ids
        dumped = []
        for r in rows:
            d: dict[str, Any] = {"id": ids[int(r["id"])]}
            for c in t.columns:
                if c.name == "id":
                    continue
                parent = _fk_parent(c)
                if parent == PROFILES:
                    continue
                if parent is not None:
                    d[c.name] = None if r[c.name] is None else local[parent][int(r[c.name])]
                else:
                    d[c.name] = _encode(c, r[c.name])
            dumped.append(d)
        out[t.name] = dumped
    return profile, out


def export_profile(
    store: Store, name: str, *, exported_at: dt.datetime | None = None
) -> dict[str, Any]:
    """Everything a profile owns, as a JSON-ready dict (see the module docstring)."""
    with store.engine.connect() as conn:
        pid = _profile_id(conn, name)
        profile, tables = _dump_rows(conn, pid)
        conn.rollback()
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "schema_revision": HEAD_REVISION,
        "exported_at": (exported_at or utcnow()).isoformat(),
        "profile": profile,
        "tables": tables,
    }


def write_export(doc: Mapping[str, Any], path: str | Path) -> Path:
    """Write an export document as UTF-8 JSON (NaN and infinities refused)."""
    p = Path(path)
    p.write_text(
        json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=1) + "\n", encoding="utf-8"
    )
    return p


def read_export(path: str | Path) -> dict[str, Any]:
    """Read an export file written by :func:`write_export`."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ExportFormatError(f"{path}: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ExportFormatError(f"{path}: not a Susurrus profile export")
    return doc


def import_profile(store: Store, doc: Mapping[str, Any], *, name: str | None = None) -> str:
    """Restore a profile from an export document, all or nothing; return its name.

    Raises
    ------
    ProfileExistsError
        When a profile of that name exists already.
    ExportFormatError
        When the document is not a valid export (unknown table or column, bad id).
    """
    if doc.get("format") != EXPORT_FORMAT:
        raise ExportFormatError(f"not a Susurrus profile export (format={doc.get('format')!r})")
    if doc.get("version") != EXPORT_VERSION:
        raise ExportFormatError(
            f"export version {doc.get('version')!r} is not supported (expected {EXPORT_VERSION})"
        )
    prof = doc.get("profile")
    tables_doc = doc.get("tables")
    if not isinstance(prof, dict) or not isinstance(tables_doc, dict):
        raise ExportFormatError("an export needs 'profile' and 'tables' objects")
    profiles = Base.metadata.tables[PROFILES]
    new_name = name or prof.get("name")
    if not isinstance(new_name, str) or not new_name:
        raise ExportFormatError("the export has no profile name")
    owned = profile_tables()
    known = {t.name for t in owned}
    unknown = set(tables_doc) - known
    if unknown:
        raise ExportFormatError(f"unknown tables in export: {', '.join(sorted(unknown))}")
    referenced = {_fk_parent(c) for ot in owned for c in ot.table.columns} - {None}
    with store.engine.begin() as conn:
        if conn.execute(select(profiles.c.id).where(profiles.c.name == new_name)).first():
            raise ProfileExistsError(new_name)
        values = _row_values(profiles, {**prof, "name": new_name}, {}, None)
        pid = int(
            conn.execute(insert(profiles).values(**values).returning(profiles.c.id)).scalar_one()
        )
        mapping: dict[str, dict[int, int]] = {PROFILES: {1: pid}}
        for ot in owned:
            rows = tables_doc.get(ot.name, [])
            if not isinstance(rows, list):
                raise ExportFormatError(f"tables.{ot.name} must be a list")
            t = ot.table
            mapping[t.name] = {}
            if t.name in referenced:
                for row in rows:
                    vals = _row_values(t, row, mapping, pid)
                    new_id = conn.execute(insert(t).values(**vals).returning(t.c.id)).scalar_one()
                    mapping[t.name][_local_id(t.name, row)] = int(new_id)
            elif rows:
                conn.execute(insert(t), [_row_values(t, row, mapping, pid) for row in rows])
    return new_name


def _local_id(table: str, row: Mapping[str, Any]) -> int:
    lid = row.get("id")
    if not isinstance(lid, int):
        raise ExportFormatError(f"{table}: every row needs an integer 'id'")
    return lid


def _row_values(
    t: Table, row: Any, mapping: Mapping[str, Mapping[int, int]], pid: int | None
) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise ExportFormatError(f"{t.name}: rows must be objects")
    cols = {c.name: c for c in t.columns}
    extra = set(row) - set(cols)
    if extra:
        raise ExportFormatError(f"{t.name}: unknown columns {', '.join(sorted(extra))}")
    out: dict[str, Any] = {}
    for cname, c in cols.items():
        if cname == "id":
            continue
        parent = _fk_parent(c)
        if parent == PROFILES:
            out[cname] = pid
        elif parent is not None:
            v = row.get(cname)
            if v is None:
                out[cname] = None
            else:
                try:
                    out[cname] = mapping[parent][v]
                except (KeyError, TypeError):
                    raise ExportFormatError(
                        f"{t.name}.{cname}={v!r} refers to no {parent} row"
                    ) from None
        elif cname in row:
            out[cname] = _decode(c, row[cname])
    return out


def delete_profile(store: Store, name: str) -> dict[str, int]:
    """Delete a profile and everything it owns; return the rows deleted per table."""
    counts: dict[str, int] = {}
    owned = profile_tables()
    by_name = {t.name: t for t in owned}
    with store.engine.begin() as conn:
        pid = _profile_id(conn, name)
        for ot in reversed(owned):
            t = ot.table
            res = conn.execute(delete(t).where(t.c.id.in_(_ids_query(by_name, t.name, pid))))
            counts[t.name] = int(res.rowcount or 0)
        profiles = Base.metadata.tables[PROFILES]
        conn.execute(delete(profiles).where(profiles.c.id == pid))
        counts[PROFILES] = 1
    return counts


def export_profile_csv(
    store: Store,
    name: str,
    out_dir: str | Path,
    *,
    extra_columns: Mapping[str, Callable[[Mapping[str, Any]], Mapping[str, Any]]] | None = None,
) -> list[Path]:
    """Write one CSV file per table (``profiles.csv``, ``sessions.csv``, …) into ``out_dir``.

    Ids are the export-local ids of the JSON export; JSON columns are written as
    JSON text. ``extra_columns`` maps a table name to a function adding derived
    columns to each row (the sleep diary's SOL, WASO, TST, TIB, SE).
    """
    doc = export_profile(store, name)
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    written = [_write_csv(d / "profiles.csv", [doc["profile"]])]
    for table, rows in doc["tables"].items():
        fn = (extra_columns or {}).get(table)
        if fn is not None:
            rows = [{**r, **fn(r)} for r in rows]
        cols = [c.name for c in Base.metadata.tables[table].columns if _fk_parent(c) != PROFILES]
        if rows:
            cols += [k for k in rows[0] if k not in cols]
        written.append(_write_csv(d / f"{table}.csv", rows, cols))
    return written


def _write_csv(path: Path, rows: list[dict[str, Any]], cols: list[str] | None = None) -> Path:
    cols = cols or (list(rows[0]) if rows else [])
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            w.writerow([_csv_cell(r.get(c)) for c in cols])
    return path


def _csv_cell(v: Any) -> Any:
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    return "" if v is None else v


__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "OwnedTable",
    "delete_profile",
    "export_profile",
    "export_profile_csv",
    "import_profile",
    "profile_tables",
    "read_export",
    "write_export",
]
