"""Adversarial tests for tandem.verifier: the one rule that judges models and people."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tandem import verifier
from tandem.verifier import (
    VERIFIER_NAME,
    VERIFIER_VERSION,
    Verdict,
    check_expected,
    extract_boxed,
    reward,
    verify_human_answer,
    verify_model_output,
)

C, I, U = "correct", "incorrect", "unparseable"
# Answers that must time out; a generous bound on the wall time for a 1 s limit (shared, slow CI machines).
TOWER = r"\boxed{9^{9^{9^9}}}"
SLOW_BOUND_S = 1.0 + verifier.HARD_GRACE_S + 3.0

# (id, model output, expected, verdict, extracted); extracted ... means "not checked".
MODEL_CASES = [
    ("plain", r"\boxed{14}", "14", C, "14"),
    ("two-boxes-same", r"First \boxed{14}, to be sure \boxed{14}", "14", U, None),
    ("two-boxes-different", r"\boxed{13} or maybe \boxed{14}", "14", U, None),
    ("nested-frac", r"\boxed{\frac{1}{2}}", "1/2", C, r"\frac{1}{2}"),
    ("double-braces", r"\boxed{{14}}", "14", C, "{14}"),
    ("unbalanced", r"The answer is \boxed{14", "14", U, None),
    ("empty-box", r"\boxed{}", "14", U, ""),
    ("blank-box", "\\boxed{ \n }", "14", U, ""),
    ("no-box", "The answer is 14.", "14", U, None),
    ("prose-trailing", r"So she has \boxed{14} apples left. Done!", "14", C, "14"),
    ("half-decimal-vs-frac", r"\boxed{0.5}", r"\frac{1}{2}", C, "0.5"),
    ("slash-vs-decimal", r"\boxed{1/2}", "0.5", C, "1/2"),
    ("frac-vs-slash", r"\boxed{\dfrac{1}{2}}", "1/2", C, r"\dfrac{1}{2}"),
    ("float-int", r"\boxed{14.0}", "14", C, "14.0"),
    ("near-miss-float", r"\boxed{14.000001}", "14", I, "14.000001"),
    ("unicode-minus-candidate", "\\boxed{\u22123}", "-3", C, "\u22123"),
    ("unicode-minus-expected", r"\boxed{-3}", "\u22123", C, "-3"),
    ("negative-vs-positive", r"\boxed{3}", "-3", I, "3"),
    ("positive-vs-negative", r"\boxed{-14}", "14", I, "-14"),
    ("text-unit", r"\boxed{14 \text{ apples}}", "14", C, r"14 \text{ apples}"),
    ("latex-spacing", r"\boxed{\,14\!}", "14", C, r"\,14\!"),
    ("dollar-sign", r"\boxed{\$14}", "14", C, r"\$14"),
    # Percentages follow math-verify: p% matches both p and p/100.
    ("percent-vs-number", r"\boxed{50\%}", "50", C, r"50\%"),
    ("percent-vs-fraction", r"\boxed{50\%}", "0.5", C, r"50\%"),
    ("percent-wrong", r"\boxed{5\%}", "0.5", I, r"5\%"),
    # Equations: the right-hand side of the last '=' is the answer when the expected is a number.
    ("equation", r"\boxed{x=14}", "14", C, "x=14"),
    ("equation-wrong", r"\boxed{x=13}", "14", I, "x=13"),
    ("equation-reversed", r"\boxed{14=x}", "14", I, "14=x"),
    ("leading-zero", r"\boxed{013}", "13", C, "013"),
    ("thousands-comma", r"\boxed{1,000}", "1000", C, "1,000"),
    ("thousands-thinspace", r"\boxed{1\,000}", "1000", C, r"1\,000"),
    ("thinspace-is-not-zero", r"\boxed{1\,000}", "0", I, r"1\,000"),
    ("comma-is-not-decimal", r"\boxed{1,5}", "1.5", I, "1,5"),
    ("hedge-list", r"\boxed{13, 14}", "14", I, "13, 14"),
    ("hedge-or", r"\boxed{13 \text{ or } 14}", "14", I, r"13 \text{ or } 14"),
    ("text-answer", r"\boxed{\text{fourteen}}", "14", I, r"\text{fourteen}"),
    ("text-vs-text", r"\boxed{\text{Monday}}", r"\text{Monday}", C, r"\text{Monday}"),
    ("emoji-in-box", "\\boxed{14 \U0001f600}", "14", U, "14 \U0001f600"),
    ("emoji-only", "\\boxed{\U0001f600}", "14", U, "\U0001f600"),
    ("emoji-around", "\U0001f914 \\boxed{14} \U0001f389\u200b", "14", C, "14"),
    ("fullwidth-digits", "\\boxed{\uff11\uff14}", "14", C, "\uff11\uff14"),
    ("vulgar-fraction", "\\boxed{\u00bd}", "0.5", C, "\u00bd"),
    ("fbox", r"\fbox{14}", "14", C, "14"),
    ("box-space", r"\boxed {14}", "14", C, "14"),
    ("escaped-braces-set", r"\boxed{\{1,2\}}", r"\{2,1\}", C, r"\{1,2\}"),
    ("interval", r"\boxed{[1,2)}", "[1,2)", C, "[1,2)"),
    ("interval-wrong", r"\boxed{(1,2)}", "[1,2)", I, "(1,2)"),
    ("power-equal", r"\boxed{10^{5000}}", "10^{5000}", C, "10^{5000}"),
    ("power-off-by-one", r"\boxed{10^{5000}}", "10^{5000}+1", I, "10^{5000}"),
    ("huge-literal", "\\boxed{" + "9" * 5000 + "}", "14", U, ...),
    ("not-a-box-command", r"\boxedx{14}", "14", U, None),
    ("trailing-period", r"\boxed{14.}", "14", C, "14."),
]


@pytest.mark.parametrize(("text", "expected", "verdict", "extracted"), [c[1:] for c in MODEL_CASES], ids=[c[0] for c in MODEL_CASES])
def test_model_output(text, expected, verdict, extracted):
    v = verify_model_output(text, expected)
    assert v.verdict == verdict, v.details
    if extracted is not ...:
        assert v.extracted == extracted
    assert v.reward == (1.0 if verdict == C else 0.0)
    assert v.details and v.verifier == VERIFIER_NAME and v.version == VERIFIER_VERSION


def test_details_say_why():
    assert verify_model_output(r"\boxed{1} \boxed{1}", "1").details == r"2 \boxed{} answers found"
    assert verify_model_output("14", "14").details == r"no \boxed{} answer found"
    assert "1 unclosed" in verify_model_output(r"\boxed{14", "14").details
    assert "empty" in verify_model_output(r"\boxed{}", "14").details
    assert "too long" in verify_model_output("\\boxed{" + "1" * 5000 + "}", "14").details


@pytest.mark.parametrize(
    ("text", "boxes"),
    [
        ("no boxes here", []),
        (r"\boxed{a} and \fbox{b}", ["a", "b"]),
        (r"\boxed{\frac{1}{2}}", [r"\frac{1}{2}"]),
        (r"\boxed{\boxed{c}}", [r"\boxed{c}"]),  # nested: only the outer one counts
        (r"\boxed{a", []),  # unclosed
        (r"\boxed{a \boxed{b}", ["b"]),  # the unclosed outer box is not counted
        (r"\boxed{\}}", [r"\}"]),  # escaped brace is not a closing brace
        (r"\\boxed{a}", []),  # a LaTeX line break, then the word "boxed"
        ("\\boxed\n{x}", ["x"]),
        (r"} stray \boxed{x} }", ["x"]),
    ],
)
def test_extract_boxed(text, boxes):
    assert extract_boxed(text) == boxes


def test_huge_tower_is_bounded():
    start = time.monotonic()
    v = verify_model_output(TOWER, "14", timeout_s=1.0)
    assert time.monotonic() - start < SLOW_BOUND_S
    assert v.verdict == U and v.reward == 0.0
    assert v.details.startswith("timed out after 1.0s")


def test_one_megabyte_inputs_return_promptly():
    cases = [
        ("word " * 200_000 + r"\boxed{14}", C),
        ("{" * 1_000_000, U),
        ("\\boxed{" * 150_000, U),
        ("\\boxed{" + "1+" * 500_000 + "1}", U),  # a single 1 MB answer: refused as too long
    ]
    for text, verdict in cases:
        start = time.monotonic()
        assert verify_model_output(text, "14").verdict == verdict
        assert time.monotonic() - start < 3.0


# (id, participant's answer field, expected, verdict, extracted)
HUMAN_CASES = [
    ("plain", "14", "14", C, "14"),
    ("whitespace", "  14 \n", "14", C, "14"),
    ("dollars", "$14$", "14", C, "14"),
    ("display-dollars", "$$14$$", "14", C, "14"),
    ("parens", r"\(14\)", "14", C, "14"),
    ("wrong", "15", "14", I, "15"),
    ("fraction-slash", "1/2", "0.5", C, "1/2"),
    ("fraction-latex", r"\frac{1}{2}", "0.5", C, r"\frac{1}{2}"),
    ("decimal", "0.5", r"\frac{1}{2}", C, "0.5"),
    ("leading-dot", ".5", "1/2", C, ".5"),
    ("negative", "-3", "-3", C, "-3"),
    ("unicode-minus", "\u22123", "-3", C, "\u22123"),
    ("sign-matters", "3", "-3", I, "3"),
    ("thousands-comma", "1,000", "1000", C, "1,000"),
    ("thousands-space", "1 000", "1000", C, "1 000"),
    ("trailing-period", "14.", "14", C, "14."),
    ("percent", "50%", "0.5", C, "50%"),
    ("with-unit", "14 apples", "14", C, "14 apples"),
    ("words", "fourteen", "14", I, "fourteen"),
    ("empty", "", "14", U, ""),
    ("blank", "   \t", "14", U, ""),
    ("empty-dollars", "$ $", "14", U, ""),
    ("emoji", "\U0001f600", "14", U, "\U0001f600"),
]


@pytest.mark.parametrize(("answer", "expected", "verdict", "extracted"), [c[1:] for c in HUMAN_CASES], ids=[c[0] for c in HUMAN_CASES])
def test_human_answer(answer, expected, verdict, extracted):
    v = verify_human_answer(answer, expected)
    assert v.verdict == verdict, v.details
    assert v.extracted == extracted


def test_weird_candidate_types_fail_closed():
    assert verify_model_output(None, "14").verdict == U  # type: ignore[arg-type]
    assert verify_human_answer(14, "14").verdict == U  # type: ignore[arg-type]


@pytest.mark.parametrize("expected", ["", "   ", None])
def test_empty_expected_raises(expected):
    with pytest.raises(ValueError, match="expected answer"):
        verify_model_output(r"\boxed{14}", expected)
    with pytest.raises(ValueError, match="expected answer"):
        verify_human_answer("14", expected)


def test_unparseable_expected_fails_closed():
    v = verify_model_output(r"\boxed{14}", "\U0001f600")
    assert v.verdict == U and "expected answer" in v.details


def test_verdict_reward_and_dict_round_trip():
    good = verify_model_output(r"\boxed{\frac{1}{2}}", "0.5")
    assert good.reward == 1.0 and reward(r"\boxed{\frac{1}{2}}", "0.5") == 1.0
    assert Verdict(VERIFIER_NAME, VERIFIER_VERSION, "1", I, "x").reward == 0.0
    assert Verdict(VERIFIER_NAME, VERIFIER_VERSION, None, U, "x").reward == 0.0
    assert reward("no box", "14") == 0.0
    row = json.loads(json.dumps(good.to_dict()))
    assert row == good.to_dict() and row["reward"] == 1.0
    assert Verdict(**{k: v for k, v in row.items() if k != "reward"}) == good
    with pytest.raises(ValueError):
        Verdict(VERIFIER_NAME, VERIFIER_VERSION, None, "maybe", "x")


def test_version_names_the_library_and_rules():
    assert VERIFIER_NAME == "math-verify"
    assert VERIFIER_VERSION.startswith("math-verify==0.9.0;") and "tandem-rules=" in VERIFIER_VERSION


@pytest.mark.parametrize("expected", ["14", "-3", "1/2", r"\frac{3}{4}", "0.25", "$14$", "1,000", r"\{1,2\}", 14])
def test_check_expected_good(expected):
    assert check_expected(expected) is None


@pytest.mark.parametrize(
    ("expected", "reason"),
    [("", "empty"), ("  ", "empty"), ("\U0001f600", "does not parse"), (r"\frac{1}{", "does not parse"),
     ("1/0", "does not equal itself"), ("1" * 3000, "too long")],
)
def test_check_expected_bad(expected, reason):
    assert reason in check_expected(expected)


def test_deterministic():
    texts = [r"\boxed{0.5}", r"\boxed{x=14}", r"\boxed{1\,000}", r"\boxed{14 \U0001f600}"]
    first = [verify_model_output(t, "1000") for t in texts]
    assert [verify_model_output(t, "1000") for t in texts] == first


def test_off_main_thread_with_time_limit():
    """math-verify's own timeouts raise off the main thread; ours must work there and still bound time."""
    results: dict[str, tuple[Verdict, float]] = {}

    def run(name: str, text: str) -> None:
        start = time.monotonic()
        results[name] = (verify_model_output(text, "14", timeout_s=1.0), time.monotonic() - start)

    threads = [threading.Thread(target=run, args=args) for args in [("ok", r"\boxed{14}"), ("tower", TOWER)]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results["ok"][0].verdict == C
    tower, elapsed = results["tower"]
    assert tower.verdict == U and "timed out" in tower.details
    assert elapsed < SLOW_BOUND_S + 2.0  # may include starting a second worker


def test_hard_limit_kills_a_stuck_worker():
    """With the worker's own timer off (as if stuck in C code) the caller kills it at the hard limit."""
    start = time.monotonic()
    request = {"op": "compare", "candidate": r"\lfloor 10^{10^8}/3 \rfloor", "expected": "3", "soft_limit": False}
    result = verifier._call_worker(request, timeout_s=0.5)
    assert result["status"] == "timeout" and "worker killed" in result["detail"]
    assert time.monotonic() - start < 0.5 + verifier.HARD_GRACE_S + 2.0
    assert verify_model_output(r"\boxed{14}", "14").verdict == C  # the pool recovers
