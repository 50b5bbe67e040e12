"""Profile look-up shared by the journal modules."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from ..errors import ParameterError
from ..store import Profile, ProfileNotFoundError, Store

MAX_NAME = 200


def check_name(name: str) -> str:
    """A profile name: 1–200 characters, no NUL, not only spaces."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or "\x00" in name:
        raise ParameterError("profile", name, f"a name of 1-{MAX_NAME} characters")
    return name


def profile_id(s: OrmSession, name: str, *, create: bool = False) -> int:
    """The id of profile ``name`` (created when ``create`` and missing)."""
    check_name(name)
    pid = s.execute(select(Profile.id).where(Profile.name == name)).scalar()
    if pid is not None:
        return int(pid)
    if not create:
        raise ProfileNotFoundError(name)
    p = Profile(name=name)
    try:
        with s.begin_nested():
            s.add(p)
            s.flush()
    except IntegrityError:  # created by another process meanwhile
        pid = s.execute(select(Profile.id).where(Profile.name == name)).scalar_one()
        return int(pid)
    return int(p.id)


def ensure_profile(store: Store, name: str) -> int:
    """Create profile ``name`` if needed; return its id."""
    with store.session() as s:
        return profile_id(s, name, create=True)


def list_profiles(store: Store) -> list[str]:
    """All profile names, sorted."""
    with store.session() as s:
        return sorted(s.execute(select(Profile.name)).scalars())
