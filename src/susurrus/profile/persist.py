"""Listener profiles in the project database (one JSON model per profile)."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from ..errors import ParameterError
from ..store import ListenerModel, Profile, ProfileExistsError, Store, utcnow
from .model import ListenerProfile


def _known(s: OrmSession) -> str:
    names = sorted(s.execute(select(Profile.name)).scalars())
    return "one of " + ", ".join(names) if names else "an existing profile (none yet: `susurrus profile create NAME`)"


def create_listener(store: Store, name: str, *, seed: int | None = None) -> ListenerProfile:
    """A new profile with an untrained listener model; :class:`ProfileExistsError` if taken."""
    from ..journal.profiles import check_name

    check_name(name)
    model = ListenerProfile(name, seed=secrets.randbits(32) if seed is None else seed)
    with store.session() as s:
        if s.execute(select(Profile.id).where(Profile.name == name)).scalar() is not None:
            raise ProfileExistsError(name)
        p = Profile(name=name)
        s.add(p)
        s.flush()
        s.add(ListenerModel(profile_id=p.id, model=model.to_dict()))
    return model


def load_listener(store: Store, name: str) -> ListenerProfile:
    """The listener model of profile ``name`` (a journal-only profile gets a fresh model)."""
    with store.session() as s:
        pid = s.execute(select(Profile.id).where(Profile.name == name)).scalar()
        if pid is None:
            raise ParameterError("profile", name, _known(s))
        doc = s.execute(select(ListenerModel.model).where(ListenerModel.profile_id == pid)).scalar()
    if doc is None:
        return ListenerProfile(name, seed=secrets.randbits(32))
    return ListenerProfile.from_dict(doc)


def save_listener(store: Store, model: ListenerProfile) -> None:
    """Write the model back (creating its row for a journal-only profile)."""
    with store.session() as s:
        pid = s.execute(select(Profile.id).where(Profile.name == model.name)).scalar()
        if pid is None:
            raise ParameterError("profile", model.name, _known(s))
        row = s.execute(select(ListenerModel).where(ListenerModel.profile_id == pid)).scalar()
        if row is None:
            s.add(ListenerModel(profile_id=pid, model=model.to_dict()))
        else:
            row.model = model.to_dict()
            row.updated_at = utcnow()
