"""Sleep diary: the Consensus Sleep Diary's core questions and the metrics they give.

Core questions (Carney CE et al. 2012, "The Consensus Sleep Diary:
standardizing prospective sleep self-monitoring", *Sleep* 35(2):287–302):

1. What time did you get into bed?                       → ``bed_time``
2. What time did you try to go to sleep?                 → ``try_sleep_time``
3. How long did it take you to fall asleep?              → ``sol_min``
4. How many times did you wake up, not counting your final awakening? → ``awakenings``
5. In total, how long did these awakenings last?         → ``waso_min``
6. What time was your final awakening?                   → ``final_wake_time``
7. What time did you get out of bed for the day?         → ``out_of_bed_time``
8. How would you rate the quality of your sleep?         → ``quality`` 1 very poor … 5 very good

Metrics (minutes; SE in %):

* SOL (sleep-onset latency) = answer 3;
* WASO (wake after sleep onset) = answer 5;
* TIB (time in bed) = out-of-bed time − bed time (7 − 1);
* TST (total sleep time) = (final awakening − trying to sleep) − SOL − WASO;
* SE (sleep efficiency) = 100 · TST / TIB.

Answers that cannot all be true are rejected with a message saying which.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterError
from ..store import SleepEntry, Store
from .checkins import check_note
from .errors import SleepDiaryError
from .profiles import profile_id

QUALITY = ("very poor", "poor", "fair", "good", "very good")
MAX_SPAN = dt.timedelta(hours=24)
QUESTIONS = (
    "What time did you get into bed?",
    "What time did you try to go to sleep?",
    "How long did it take you to fall asleep (minutes)?",
    "How many times did you wake up, not counting your final awakening?",
    "In total, how long did these awakenings last (minutes)?",
    "What time was your final awakening?",
    "What time did you get out of bed for the day?",
    "How would you rate the quality of your sleep? (1 very poor, 2 poor, 3 fair, 4 good, 5 very good)",
)


@dataclass(frozen=True)
class SleepAnswers:
    """One night's answers (local wall-clock date-times, naive)."""

    night: dt.date
    bed_time: dt.datetime
    try_sleep_time: dt.datetime
    sol_min: float
    awakenings: int
    waso_min: float
    final_wake_time: dt.datetime
    out_of_bed_time: dt.datetime
    quality: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class SleepMetrics:
    """SOL, WASO, TST, TIB in minutes and SE in percent."""

    sol_min: float
    waso_min: float
    tst_min: float
    tib_min: float
    se_pct: float

    def as_dict(self) -> dict[str, float]:
        return {
            "sol_min": self.sol_min,
            "waso_min": self.waso_min,
            "tst_min": self.tst_min,
            "tib_min": self.tib_min,
            "se_pct": self.se_pct,
        }


def _hm(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def validate(a: SleepAnswers) -> SleepMetrics:
    """Check that the answers can all be true and compute the metrics.

    Raises
    ------
    SleepDiaryError
        Naming the impossible answer(s): times out of order, more than 24 h in
        bed, more time awake than was spent between trying to sleep and the
        final awakening, awake time reported with no awakenings, …
    """
    for name in ("sol_min", "waso_min"):
        v = getattr(a, name)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise SleepDiaryError(f"{name}={v!r}: minutes must be a number >= 0")
    if isinstance(a.awakenings, bool) or not isinstance(a.awakenings, int) or a.awakenings < 0:
        raise SleepDiaryError(f"awakenings={a.awakenings!r}: must be a whole number >= 0")
    if a.quality is not None and (isinstance(a.quality, bool) or a.quality not in range(1, 6)):
        raise SleepDiaryError(f"quality={a.quality!r}: must be 1 (very poor) … 5 (very good)")
    for name in ("bed_time", "try_sleep_time", "final_wake_time", "out_of_bed_time"):
        if getattr(a, name).tzinfo is not None:
            raise SleepDiaryError(f"{name}: give local clock times without a timezone")
    order = [
        ("got into bed", a.bed_time),
        ("tried to sleep", a.try_sleep_time),
        ("final awakening", a.final_wake_time),
        ("got out of bed", a.out_of_bed_time),
    ]
    for (n1, t1), (n2, t2) in itertools.pairwise(order):
        if t2 < t1:
            raise SleepDiaryError(
                f"impossible answers: {n2} ({_hm(t2)}) is before {n1} ({_hm(t1)})"
            )
    if a.out_of_bed_time - a.bed_time > MAX_SPAN:
        raise SleepDiaryError(
            f"impossible answers: {_hm(a.bed_time)} to {_hm(a.out_of_bed_time)} is more than 24 h in bed"
        )
    asleep_window = (a.final_wake_time - a.try_sleep_time).total_seconds() / 60.0
    if a.sol_min + a.waso_min > asleep_window + 1e-9:
        raise SleepDiaryError(
            f"impossible answers: {a.sol_min:g} min to fall asleep + {a.waso_min:g} min awake is more "
            f"than the {asleep_window:g} min between trying to sleep and the final awakening"
        )
    if a.awakenings == 0 and a.waso_min > 0:
        raise SleepDiaryError(
            f"impossible answers: {a.waso_min:g} min of awakenings but 0 awakenings reported"
        )
    tib = (a.out_of_bed_time - a.bed_time).total_seconds() / 60.0
    tst = asleep_window - a.sol_min - a.waso_min
    se = 100.0 * tst / tib if tib > 0 else 0.0
    return SleepMetrics(float(a.sol_min), float(a.waso_min), tst, tib, se)


_CLOCK = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")


def resolve_clock(night: dt.date, text: str, *, name: str = "time") -> dt.datetime:
    """``"23:10"`` → that evening of ``night``; ``"06:40"`` → the next morning.

    Clock times 12:00–23:59 belong to the evening of ``night``, 00:00–11:59 to
    the next morning. A full ``YYYY-MM-DDTHH:MM`` (or with a space) is taken as is
    (for daytime sleep).
    """
    m = _CLOCK.match(text)
    if m:
        h, mi = int(m.group(1)), int(m.group(2))
        if not (0 <= h <= 23 and 0 <= mi <= 59):
            raise ParameterError(name, text, "a clock time HH:MM (00:00-23:59)")
        day = night if h >= 12 else night + dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(h, mi))
    try:
        v = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ParameterError(name, text, "HH:MM or YYYY-MM-DD HH:MM") from None
    if v.tzinfo is not None:
        raise ParameterError(name, text, "a local time without timezone")
    return v


def entry_metrics(e: SleepEntry) -> SleepMetrics:
    """Metrics of a stored entry."""
    return validate(_answers(e))


def _answers(e: SleepEntry) -> SleepAnswers:
    return SleepAnswers(
        e.night,
        e.bed_time,
        e.try_sleep_time,
        e.sol_min,
        e.awakenings,
        e.waso_min,
        e.final_wake_time,
        e.out_of_bed_time,
        e.quality,
        e.note,
    )


def add_sleep_entry(store: Store, profile: str, answers: SleepAnswers) -> tuple[int, SleepMetrics]:
    """Validate and save one night; return its id and metrics."""
    metrics = validate(answers)
    check_note(answers.note)
    with store.session() as s:
        row = SleepEntry(
            profile_id=profile_id(s, profile, create=True),
            night=answers.night,
            bed_time=answers.bed_time,
            try_sleep_time=answers.try_sleep_time,
            sol_min=float(answers.sol_min),
            awakenings=answers.awakenings,
            waso_min=float(answers.waso_min),
            final_wake_time=answers.final_wake_time,
            out_of_bed_time=answers.out_of_bed_time,
            quality=answers.quality,
            note=answers.note,
        )
        s.add(row)
        s.flush()
        return int(row.id), metrics


def csv_metrics(row: Mapping[str, Any]) -> dict[str, float]:
    """Derived columns for the CSV export of ``sleep_entries`` (from an export row)."""

    def t(k: str) -> dt.datetime:
        return dt.datetime.fromisoformat(str(row[k]))

    a = SleepAnswers(
        dt.date.fromisoformat(str(row["night"])),
        t("bed_time"),
        t("try_sleep_time"),
        float(str(row["sol_min"])),
        int(str(row["awakenings"])),
        float(str(row["waso_min"])),
        t("final_wake_time"),
        t("out_of_bed_time"),
    )
    m = validate(a).as_dict()
    return {k: round(m[k], 3) for k in ("tst_min", "tib_min", "se_pct")}
