"""PHQ-9, PHQ-8, GAD-7: verbatim items, scoring, severity bands, the item-9 rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from susurrus.errors import ParameterError
from susurrus.journal import (
    INSTRUMENTS,
    format_result,
    get_instrument,
    parse_answers,
    score_answers,
)


def test_items_are_verbatim_and_complete() -> None:
    phq9, phq8, gad7 = (INSTRUMENTS[k] for k in ("phq9", "phq8", "gad7"))
    assert len(phq9.items) == 9 and len(phq8.items) == 8 and len(gad7.items) == 7
    assert phq9.items[0] == "Little interest or pleasure in doing things"
    assert (
        phq9.items[8]
        == "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert phq8.items == phq9.items[:8]
    assert gad7.items[0] == "Feeling nervous, anxious or on edge"
    assert gad7.items[3] == "Trouble relaxing"
    assert phq9.options == (
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    )
    assert phq9.stem.startswith("Over the last 2 weeks, how often have you been bothered")


@pytest.mark.parametrize(
    ("inst", "score", "band"),
    [
        ("phq9", 0, "None-minimal"),
        ("phq9", 4, "None-minimal"),
        ("phq9", 5, "Mild"),
        ("phq9", 9, "Mild"),
        ("phq9", 10, "Moderate"),
        ("phq9", 14, "Moderate"),
        ("phq9", 15, "Moderately severe"),
        ("phq9", 19, "Moderately severe"),
        ("phq9", 20, "Severe"),
        ("phq9", 27, "Severe"),
        ("phq8", 24, "Severe"),
        ("phq8", 10, "Moderate"),
        ("gad7", 0, "Minimal anxiety"),
        ("gad7", 4, "Minimal anxiety"),
        ("gad7", 5, "Mild anxiety"),
        ("gad7", 10, "Moderate anxiety"),
        ("gad7", 14, "Moderate anxiety"),
        ("gad7", 15, "Severe anxiety"),
        ("gad7", 21, "Severe anxiety"),
    ],
)
def test_severity_bands_known_answers(inst: str, score: int, band: str) -> None:
    i = get_instrument(inst)
    assert i.severity(score) == band
    # and through answers summing to that score
    answers = [0] * len(i.items)
    left = score
    for k in range(len(answers)):
        answers[k] = min(3, left)
        left -= answers[k]
    if inst == "phq9":  # keep item 9 at 0 unless needed
        answers = sorted(answers, reverse=True)
    r = score_answers(inst, answers)
    assert (r.score, r.severity) == (score, band)


def test_item9_one_with_total_one_shows_crisis_and_no_reassurance() -> None:
    r = score_answers("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1], locale="en_GB")
    assert r.score == 1 and r.item9 == 1 and r.severity == "None-minimal"
    assert r.crisis is not None and r.crisis.locale == "GB"
    j = r.to_json()
    assert set(j) >= {"instrument", "score", "severity", "item9", "crisis"}
    assert j["crisis"]["resources"][0]["call"] == "116 123"
    text = format_result(r)
    assert text.index("116 123") < text.index("score 1")  # crisis resources first
    assert "screening aid, not a diagnosis" in text
    for reassuring in ("nothing to worry", "you are fine", "no depression", "healthy"):
        assert reassuring not in text.lower()


def test_no_crisis_when_item9_zero() -> None:
    r = score_answers("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert r.crisis is None and r.to_json()["crisis"] is None and r.score == 24
    assert score_answers("gad7", [0] * 7).to_json()["item9"] is None


@given(
    st.sampled_from(["phq9", "phq8", "gad7"]).flatmap(
        lambda i: st.tuples(
            st.just(i),
            st.lists(
                st.integers(0, 3),
                min_size=len(INSTRUMENTS[i].items),
                max_size=len(INSTRUMENTS[i].items),
            ),
        )
    )
)
def test_score_is_the_sum_and_crisis_iff_item9(case: tuple[str, list[int]]) -> None:
    inst, answers = case
    r = score_answers(inst, answers)
    assert r.score == sum(answers)
    assert (r.crisis is not None) == (inst == "phq9" and answers[8] > 0)


@pytest.mark.parametrize(
    "answers", [[0] * 8, [0] * 10, [0] * 8 + [4], [0] * 8 + [-1], [0] * 8 + [True]]
)
def test_bad_answers_rejected(answers: list[int]) -> None:
    with pytest.raises(ParameterError):
        score_answers("phq9", answers)


def test_parse_answers() -> None:
    assert parse_answers("0,1, 2 3") == [0, 1, 2, 3]
    with pytest.raises(ParameterError):
        parse_answers("0,a")
    with pytest.raises(ParameterError):
        get_instrument("psqi")  # copyrighted instruments are not shipped


def test_copyrighted_instruments_not_shipped() -> None:
    assert set(INSTRUMENTS) == {"phq9", "phq8", "gad7"}
