"""SQLAlchemy 2 models of the private journal.

Every table that holds a person's data hangs off :class:`Profile` through
foreign keys, so export, import and delete can walk the schema generically
(:mod:`susurrus.store.transfer`). Timestamps are stored as UTC and come back
timezone-aware (:class:`UTCDateTime`); sleep-diary clock times are the
person's local wall-clock times and are stored naive, as written.

The profile table is deliberately minimal (id, unique name, creation time):
the listener model extends it with its own tables that reference
``profiles.id``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PHASES = ("before", "after", "standalone")
OUTCOMES = ("completed", "stopped", "open")
INSTRUMENTS = ("phq9", "phq8", "gad7")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A point in time, stored as naive UTC, returned timezone-aware (UTC).

    Naive input is rejected: a point in time without a zone is ambiguous.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone (e.g. UTC)")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLite returns datetime already
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (microsecond resolution)."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _score(name: str) -> CheckConstraint:
    return CheckConstraint(f"{name} IS NULL OR ({name} >= 0 AND {name} <= 10)", name=f"{name}_0_10")


class Profile(Base):
    """One person keeping a journal. Extended later by the listener model."""

    __tablename__ = "profiles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Session(Base):
    """One listening session: what played, for what goal, how long, how it ended."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("outcome IN ('completed', 'stopped', 'open')", name="outcome"),
        CheckConstraint("duration_s IS NULL OR duration_s >= 0", name="duration_nonneg"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    scene: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    family: Mapped[str | None] = mapped_column(String(64), nullable=True)
    goal: Mapped[str | None] = mapped_column(String(64), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="open")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckIn(Base):
    """A check-in before or after a session (or on its own): 0–10 ratings and a note."""

    __tablename__ = "checkins"
    __table_args__ = (
        CheckConstraint("phase IN ('before', 'after', 'standalone')", name="phase"),
        UniqueConstraint("session_id", "phase", name="uq_checkins_session_phase"),
        _score("stress"),
        _score("anxiety"),
        _score("mood"),
        _score("calm"),
        _score("tingles"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    phase: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    stress: Mapped[int | None] = mapped_column(Integer, nullable=True)
    anxiety: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mood: Mapped[int | None] = mapped_column(Integer, nullable=True)
    calm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tingles: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class SleepEntry(Base):
    """One night of the Consensus Sleep Diary (core questions), local clock times."""

    __tablename__ = "sleep_entries"
    __table_args__ = (
        CheckConstraint("quality IS NULL OR (quality >= 1 AND quality <= 5)", name="quality_1_5"),
        CheckConstraint("awakenings >= 0", name="awakenings_nonneg"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    night: Mapped[dt.date] = mapped_column(Date)
    bed_time: Mapped[dt.datetime] = mapped_column(DateTime)
    try_sleep_time: Mapped[dt.datetime] = mapped_column(DateTime)
    sol_min: Mapped[float] = mapped_column(Float)
    awakenings: Mapped[int] = mapped_column(Integer)
    waso_min: Mapped[float] = mapped_column(Float)
    final_wake_time: Mapped[dt.datetime] = mapped_column(DateTime)
    out_of_bed_time: Mapped[dt.datetime] = mapped_column(DateTime)
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuestionnaireResponse(Base):
    """A completed PHQ-9, PHQ-8 or GAD-7: the answers, the score, the band."""

    __tablename__ = "questionnaire_responses"
    __table_args__ = (CheckConstraint("instrument IN ('phq9', 'phq8', 'gad7')", name="instrument"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    instrument: Mapped[str] = mapped_column(String(16))
    answers: Mapped[Any] = mapped_column(JSON)
    difficulty: Mapped[int | None] = mapped_column(Integer, nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(64))
    item9: Mapped[int | None] = mapped_column(Integer, nullable=True)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class HRRecording(Base):
    """One imported heart-rate file, optionally linked to a session."""

    __tablename__ = "hr_recordings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), nullable=True, index=True
    )
    source: Mapped[str | None] = mapped_column(Text, nullable=True)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class HRSample(Base):
    """One heart-rate sample: time, beats per minute, RR intervals (ms) if given."""

    __tablename__ = "hr_samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("hr_recordings.id", ondelete="CASCADE"), index=True
    )
    t: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    bpm: Mapped[float | None] = mapped_column(Float, nullable=True)
    rr_ms: Mapped[Any | None] = mapped_column(JSON, nullable=True)


class ListenerModel(Base):
    """A profile's listener model (ratings, aversions, sensitivity) as one JSON document.

    The model's own ``to_dict`` / ``from_dict`` round-trip it exactly; export, import and
    delete reach it through ``profile_id`` like every other table.
    """

    __tablename__ = "listener_models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), unique=True, index=True
    )
    model: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Account(Base):
    """A web-app account (``susurrus serve --auth accounts``): a user name and an argon2id hash.

    An account owns the profiles named ``@<account id>/<name>`` (see
    :mod:`susurrus.api.accounts`); it holds no journal data itself.
    """

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
