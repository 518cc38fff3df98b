"""Family graph-partials: seed 003 Q2b from its stated rounded values, exact partials by finite differences."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from qgen.bank import load_params
from qgen.errors import BankError, FamilyError
from qgen.families import domain as dom
from qgen.families.graph_partials import FAMILY
from qgen.render.exam import document, question_body
from qgen.solve import solve

PIN = Path(__file__).resolve().parent.parent / "banks" / "pins" / "seed-003-q2b.yaml"
SEEDS = range(20)
WEIGHTS = "abcdef"
STATED_REFERENCE = ["0.18", "0", "0.09", "0", "-0.09", "0"]  # INDEX.md, from the stated rounded values
EXACT_REFERENCE = ["0.2100", "0", "0.1050", "0", "-0.1050", "0"]  # INDEX.md, from exact values


@lru_cache(maxsize=None)
def question(seed: int):
    return solve("graph-partials", seed=seed)


@lru_cache(maxsize=None)
def pinned():
    return solve("graph-partials", params=load_params(PIN))


def parts(q) -> dict:
    return {p.id: p for p in q.parts}


def exact_value(part) -> float:
    """The exact-chain value: what `accept` holds, or the answer itself when both agree."""
    return part.accept[0] if part.accept else part.answer


# -- independent numpy implementation -------------------------------------------------------
def network_output(x: np.ndarray, w: dict) -> float:
    """y = σ(a·relu(c x1 + e x2)) + σ(b·relu(d x1 + f x2)) in float64."""
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    r1 = max(w["c"] * x[0] + w["e"] * x[1], 0.0)
    r2 = max(w["d"] * x[0] + w["f"] * x[1], 0.0)
    return sigmoid(w["a"] * r1) + sigmoid(w["b"] * r2)


def finite_difference(params: dict, name: str, h: float = 1e-6) -> float:
    x = np.array(params["x"], dtype=np.float64)
    w = {k: np.float64(v) for k, v in params["weights"].items()}
    up, down = dict(w), dict(w)
    up[name] += h
    down[name] -= h
    return (network_output(x, up) - network_output(x, down)) / (2 * h)


def chain_from_stated(params: dict, stated: dict, name: str) -> float:
    """The document's chain with the stated r and s (no σ evaluated)."""
    w, x = params["weights"], params["x"]
    path = 1 if name in "ace" else 2
    r, s = stated[f"r[{path}]"], stated[f"s[{path}]"]
    out_w = w["a" if path == 1 else "b"]
    slope = s * (1 - s)
    if name in "ab":
        return r * slope
    return out_w * slope * (r > 0) * (x[0] if name in "cd" else x[1])


# -- the seed document's instance ---------------------------------------------------------
def test_pin_states_the_documents_forward_values():
    assert pinned().context["stated"] == [("r_{1}", "2"), ("r_{2}", "0"), ("s_{1}", "0.9"), ("s_{2}", "0.5"),
                                          ("y", "1.4")]


@pytest.mark.parametrize("w, reference", list(zip(WEIGHTS, STATED_REFERENCE)))
def test_pin_answer_is_the_stated_value_chain(w, reference):
    assert parts(pinned())[f"grad.{w}"].answer == float(reference)


@pytest.mark.parametrize("w, reference", list(zip(WEIGHTS, STATED_REFERENCE)))
def test_pin_key_shows_the_stated_value_chain_first(w, reference):
    assert parts(pinned())[f"grad.{w}"].answer_tex.split(r" \quad")[0] == reference


@pytest.mark.parametrize("w, reference", list(zip(WEIGHTS, EXACT_REFERENCE)))
def test_pin_exact_value_rounds_to_the_reference(w, reference):
    assert round(exact_value(parts(pinned())[f"grad.{w}"]), 4) == float(reference)


@pytest.mark.parametrize("w, reference", [(w, r) for w, r in zip(WEIGHTS, EXACT_REFERENCE) if r != "0"])
def test_pin_key_shows_the_exact_value_beside_the_answer(w, reference):
    assert parts(pinned())[f"grad.{w}"].answer_tex.endswith(rf"(\text{{exact: }}{{{reference}}})")


@pytest.mark.parametrize("w", [w for w, r in zip(WEIGHTS, EXACT_REFERENCE) if r == "0"])
def test_pin_zero_partial_needs_no_second_answer(w):
    part = parts(pinned())[f"grad.{w}"]
    assert part.accept == () and part.answer_tex == "0"


def test_pin_worked_line_follows_the_document():
    assert parts(pinned())["grad.a"].worked[0] == (
        r"\frac{\partial y}{\partial a} = r_{1} \cdot s_{1} \cdot \left(1 - s_{1}\right) = "
        r"2 \cdot 0.9 \cdot \left(1 - 0.9\right) = 0.18")


def test_pin_exact_worked_line_uses_sigma_at_full_precision():
    assert parts(pinned())["grad.a"].worked[1].endswith(r"2 \cdot 0.8808 \cdot \left(1 - 0.8808\right) \approx 0.2100")


def test_pin_exact_forward_pass_is_in_the_context():
    assert pinned().context["exact_forward"][2].endswith(r"\sigma\left(1 \cdot 2\right) \approx 0.8808")


def test_pin_is_a_fair_question():
    params = {k: v for k, v in load_params(PIN).items() if k != "precision"}
    assert FAMILY.problems(params) == []


def test_derivatives_keep_the_partial_sign_where_a_notation_writes_d():
    # one weight is called d: dy/dd would be unreadable
    params = dict(load_params(PIN), notation="bias-row")
    assert parts(solve("graph-partials", params=params))["grad.d"].prompt == \
        r"What is $\displaystyle \frac{\partial y}{\partial d}$?"


# -- every sampled instance -----------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_exact_partials_agree_with_finite_differences(seed):
    q = question(seed)
    got = [exact_value(parts(q)[f"grad.{w}"]) for w in WEIGHTS]
    assert np.allclose(got, [finite_difference(q.params, w) for w in WEIGHTS], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_follow_the_stated_values(seed):
    q = question(seed)
    stated = q.solution["stated_forward"]
    expected = [chain_from_stated(q.params, stated, w) for w in WEIGHTS]
    assert np.allclose([parts(q)[f"grad.{w}"].answer for w in WEIGHTS], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_stated_values_are_the_exact_ones_rounded(seed):
    q = question(seed)
    x = np.array(q.params["x"], dtype=np.float64)
    w = q.params["weights"]
    r1, r2 = max(w["c"] * x[0] + w["e"] * x[1], 0), max(w["d"] * x[0] + w["f"] * x[1], 0)
    s1, s2 = 1 / (1 + np.exp(-w["a"] * r1)), 1 / (1 + np.exp(-w["b"] * r2))
    assert q.solution["stated_forward"] == {"r[1]": r1, "r[2]": r2, "s[1]": round(s1, 1), "s[2]": round(s2, 1),
                                           "y": round(s1 + s2, 1)}


@pytest.mark.parametrize("seed", SEEDS)
def test_stated_sigmas_keep_the_chain_easy(seed):
    stated = question(seed).solution["stated_forward"]
    assert {stated["s[1]"], stated["s[2]"]} <= {0.1, 0.3, 0.5, 0.7, 0.9}


@pytest.mark.parametrize("seed", SEEDS)
def test_stated_and_exact_partials_have_the_same_sign(seed):
    q = question(seed)
    assert all(np.sign(p.answer) == np.sign(exact_value(p)) for p in q.parts)


@pytest.mark.parametrize("seed", SEEDS)
def test_stated_and_exact_partials_are_within_a_quarter(seed):
    q = question(seed)
    assert all(abs(p.answer - exact_value(p)) <= 0.25 * abs(exact_value(p)) for p in q.parts)


@pytest.mark.parametrize("seed", SEEDS)
def test_at_least_three_partials_are_not_zero(seed):
    assert sum(p.answer != 0 for p in question(seed).parts) >= 3


@pytest.mark.parametrize("seed", SEEDS)
def test_two_live_paths_are_not_copies_of_each_other(seed):
    stated = question(seed).solution["stated_forward"]
    live = stated["r[1]"] > 0 and stated["r[2]"] > 0
    assert not live or (stated["r[1]"], stated["s[1]"]) != (stated["r[2]"], stated["s[2]"])


@pytest.mark.parametrize("seed", SEEDS)
def test_no_relu_input_is_exactly_zero(seed):
    params = question(seed).params
    w, x = params["weights"], params["x"]
    assert w["c"] * x[0] + w["e"] * x[1] != 0 and w["d"] * x[0] + w["f"] * x[1] != 0


@pytest.mark.parametrize("seed", SEEDS)
def test_part_ids_are_unique(seed):
    ids = [p.id for p in question(seed).parts]
    assert len(ids) == len(set(ids)) == 6


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_instance_is_fair(seed):
    assert FAMILY.problems(question(seed).params) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_every_part_has_a_stated_and_an_exact_worked_line(seed):
    assert all(len(p.worked) == 2 and p.worked[1].startswith(r"\text{exact forward values: }")
               for p in question(seed).parts)


@pytest.mark.parametrize("seed", range(5))
def test_same_seed_gives_identical_parts(seed):
    assert solve("graph-partials", seed=seed).parts == question(seed).parts


@pytest.mark.parametrize("seed", range(5))
def test_stored_params_rebuild_the_same_question(seed):
    assert solve("graph-partials", params=question(seed).params).parts == question(seed).parts


def test_default_domain_has_one_dead_path_like_the_seed():
    dead = {sum(v == 0 for k, v in question(s).solution["stated_forward"].items() if k.startswith("r"))
            for s in SEEDS}
    assert dead == {1}


@pytest.mark.parametrize("wanted", [0, 1])
def test_dead_paths_domain_is_respected(wanted):
    domain = dom.merge(FAMILY.default_domain, {"dead_paths": [wanted]}, "d")
    params = FAMILY.sample(np.random.default_rng(5), domain)
    w, x = params["weights"], params["x"]
    assert sum(w[a] * x[0] + w[b] * x[1] < 0 for a, b in (("c", "e"), ("d", "f"))) == wanted


def test_exam_body_holds_no_answers():
    body = question_body(pinned(), key=False)
    assert "0.18" not in body and "0.8808" not in body and r"\qgenanswer" not in body


def test_exam_body_states_the_rounded_forward_values():
    assert r"$s_{1} = 0.9$, $s_{2} = 0.5$, $y = 1.4$" in question_body(pinned(), key=False)


# -- bad pinned parameters and domains -------------------------------------------------------
@pytest.mark.parametrize("change, where", [
    (lambda p: p["weights"].pop("c"), "params.weights"),
    (lambda p: p["weights"].update(c="four"), "params.weights.c"),
    (lambda p: p.update(x=[1]), "params.x"),
    (lambda p: p.update(x=[1, "y"]), "params.x[1]"),
    (lambda p: p.update(bias=1), "bias"),
], ids=["missing-weight", "bad-weight", "one-input", "bad-input", "unknown-key"])
def test_bad_params_are_a_bank_error_naming_the_key(change, where):
    params = load_params(PIN)
    change(params)
    with pytest.raises(BankError) as exc:
        solve("graph-partials", params=params)
    assert where in str(exc.value)


def test_dead_paths_outside_0_and_1_is_a_bank_error():
    domain = dom.merge(FAMILY.default_domain, {"dead_paths": [2]}, "d")
    with pytest.raises(BankError) as exc:
        FAMILY.sample(np.random.default_rng(0), domain)
    assert "domain.dead_paths" in str(exc.value)


def test_impossible_domain_is_a_family_error():
    domain = dom.merge(FAMILY.default_domain, {"hidden_weights": [4], "x": [2], "dead_paths": [0]}, "d")
    with pytest.raises(FamilyError) as exc:
        FAMILY.sample(np.random.default_rng(0), domain)
    assert "no fair instance" in str(exc.value) and "path" in str(exc.value)


# -- the PDF, as a student and a grader see it ---------------------------------------------------
def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\u2212", "-")


@pytest.mark.latex
def test_exam_and_key_compile_and_only_the_key_has_the_answers(tmp_path):
    if shutil.which("latexmk") is None or shutil.which("pdftotext") is None:
        pytest.skip("latexmk or pdftotext not installed")
    from qgen.render.pdf import compile_pdf

    questions = [pinned(), question(1), question(2)]
    texts = {}
    for key in (False, True):
        tex = tmp_path / f"{'key' if key else 'exam'}.tex"
        tex.write_text(document(title="Partials", course="Test", date="", instructions="", exam_id="t", version="1",
                                places=4, questions=questions, key=key))
        texts[key] = _pdf_text(compile_pdf(tex))
    assert "(exact: 0.2100)" in texts[True] and "0.2100" not in texts[False] and "Answer:" not in texts[False]
