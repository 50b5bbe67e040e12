"""Safety: crisis resources by locale, screening rules, wording, the first-run note."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from susurrus import safety
from susurrus.safety import (
    COMPLEMENT_NOTE,
    RELAX_CLAIM,
    SCREENING_NOTE,
    WordingError,
    check_wording,
    crisis_resources,
    first_run_note,
    first_run_pending,
    format_crisis,
    last_checked,
    locales,
    needs_crisis_resources,
    resolve_locale,
    screen,
)

DATA = Path(safety.__file__).parent / "crisis_resources.json"


def test_one_data_file_with_last_checked_date() -> None:
    doc = json.loads(DATA.read_text(encoding="utf-8"))
    assert dt.date.fromisoformat(doc["last_checked"]) <= dt.date.today()
    assert last_checked() == doc["last_checked"]
    assert doc["default"] in doc["locales"]


@pytest.mark.parametrize("loc", locales())
def test_every_locale_has_an_entry(loc: str) -> None:
    r = crisis_resources(loc)
    assert r.locale == loc
    assert r.resources, loc
    assert r.emergency and r.country
    for res in r.resources:
        assert res.name and (res.call or res.text or res.url)
    assert r.last_checked == last_checked()
    text = format_crisis(r)
    assert all(res.name in text for res in r.resources)


@pytest.mark.parametrize(
    ("loc", "must"),
    [
        ("en_US.UTF-8", ["988"]),
        ("en-GB", ["116 123"]),
        ("UK", ["116 123"]),
        ("en_IE", ["116 123"]),
        ("en_CA", ["1-833-456-4566"]),
        ("fr_CA", ["1-833-456-4566"]),
        ("en_AU", ["13 11 14"]),
    ],
)
def test_required_numbers(loc: str, must: list[str]) -> None:
    text = format_crisis(crisis_resources(loc))
    for m in must:
        assert m in text


def test_us_988_is_call_and_text() -> None:
    r = crisis_resources("US").resources[0]
    assert r.call == "988" and r.text == "988"


@pytest.mark.parametrize("loc", [None, "", "fr_FR", "de", "C", "POSIX", "xx_ZZ.UTF-8"])
def test_unknown_locales_fall_back_to_the_international_directory(
    loc: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(k, raising=False)
    r = crisis_resources(loc)
    assert r.locale == "INTL"
    assert "findahelpline.com" in format_crisis(r)


def test_locale_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_AU.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    assert resolve_locale(None) == "AU"


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_item9_above_zero_needs_crisis_resources_whatever_the_total(item9: int) -> None:
    answers = [0] * 8 + [item9]
    assert needs_crisis_resources("phq9", answers)
    s = screen("phq9", answers, locale="US")
    assert s.urgent and "988" in s.message()


def test_no_crisis_for_item9_zero_or_other_instruments() -> None:
    assert not screen("phq9", [3] * 8 + [0]).urgent
    assert not screen("phq8", [3] * 8).urgent
    assert not screen("gad7", [3] * 7).urgent


def test_wording_rules() -> None:
    for text in (SCREENING_NOTE, COMPLEMENT_NOTE, RELAX_CLAIM):
        assert check_wording(text) == text
    assert "screening aid, not a diagnosis" in SCREENING_NOTE
    assert "may help you relax" in RELAX_CLAIM
    assert re.search(r"complements .*not replace", COMPLEMENT_NOTE)
    for bad in ("ASMR treats insomnia", "this cures anxiety", "Clinically proven calm"):
        with pytest.raises(WordingError):
            check_wording(bad)


def test_user_facing_texts_never_overclaim() -> None:
    from susurrus.journal import insights, questionnaires, report

    for mod in (insights, report, questionnaires):
        for name in dir(mod):
            v = getattr(mod, name)
            if isinstance(v, str) and name.isupper():
                check_wording(v)
    from susurrus.journal.insights import PairedChange, describe

    for n in (0, 1, 4, 6, 30):
        ch = PairedChange(n, 5.0, 3.0, -2.0, 1.0, -2.5, -1.5, -5.0, max(n - 1, 1), 0.01, -2.0)
        check_wording(describe("stress", ch))


def test_first_run_note_once_then_reachable(tmp_path: Path) -> None:
    d = tmp_path / "data"
    assert first_run_pending(d)
    assert first_run_note(d) == COMPLEMENT_NOTE
    assert not first_run_pending(d)
    assert first_run_note(d) is None
    assert safety.COMPLEMENT_NOTE  # always reachable
