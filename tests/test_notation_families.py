"""Every family renders in the bank's notation: overridden symbols reach exam and key alike.

Each case solves a family for a few seeds under a notation mapping, renders the question's
exam and key bodies, and checks that the override's symbol is there and the default it
replaces is not. Families with no network (activations, chain-rule, graph-forward) keep
their own calculus names under any notation.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pytest

from qgen.bank import load_bank
from qgen.errors import BankError
from qgen.generate import build_version
from qgen.notation import Sym, resolve
from qgen.publish import render_version
from qgen.render.exam import question_body
from qgen.solve import solve

NETWORK_FAMILIES = ["mlp-backprop", "batch-gd", "regression-mlp"]
SEEDS = [0, 1, 2]
SHEETS = ["exam", "key"]


@lru_cache(maxsize=None)
def _rendered(family: str, seed: int, spec: tuple) -> dict[str, str]:
    q = solve(family, seed=seed, notation=dict(spec))
    return {"exam": question_body(q, key=False), "key": question_body(q, key=True), "question": q}


def rendered(family: str, seed: int, sheet: str, **spec) -> str:
    """The exam or key body of `family` drawn with `seed`, in the notation mapping `spec`."""
    return _rendered(family, seed, tuple(sorted(spec.items())))[sheet]


def question(family: str, seed: int, **spec):
    return _rendered(family, seed, tuple(sorted(spec.items())))["question"]


def math(tex: str) -> str:
    """The math of a rendered body: $…$, \\[…\\] and the key's worked and answer lines, text in them dropped."""
    pieces = re.findall(r"\$(.+?)\$", tex, flags=re.S) + re.findall(r"\\\[(.+?)\\\]", tex, flags=re.S)
    pieces += [line for line in tex.splitlines() if line.startswith(("\\qgenworked", "\\qgenanswer"))]
    return re.sub(r"\\(hat|texttt|text)\{[^}]*\}", " ", "\n".join(pieces))


def standalone(letter: str, tex: str) -> bool:
    """Whether the math of `tex` writes `letter` as a symbol of its own (not in a command, ŷ or \\text{…})."""
    return re.search(rf"(?<![A-Za-z\\]){letter}(?![A-Za-z])", math(tex)) is not None


# -- the learning rate ------------------------------------------------------------------------
LR_FAMILIES = NETWORK_FAMILIES + ["logistic-sgd"]


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("lr", [r"\lambda", r"\alpha"])
@pytest.mark.parametrize("family", LR_FAMILIES)
def test_learning_rate_override_is_written(family, lr, seed, sheet):
    assert lr in rendered(family, seed, sheet, profile="bias-column", lr=lr)


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", LR_FAMILIES)
def test_learning_rate_override_replaces_the_profiles_eta(family, seed, sheet):
    assert r"\eta" not in rendered(family, seed, sheet, profile="bias-column", lr=r"\lambda")


# -- activation and pre-activation letters ----------------------------------------------------
@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", NETWORK_FAMILIES)
def test_alpha_beta_names_are_written(family, seed, sheet):
    tex = rendered(family, seed, sheet, profile="separate-bias", pre=r"\alpha", post=r"\beta")
    assert r"\alpha^{(1)}" in tex and r"\beta^{(1)}" in tex


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", NETWORK_FAMILIES)
def test_alpha_beta_names_replace_z_and_a(family, seed, sheet):
    tex = rendered(family, seed, sheet, profile="separate-bias", pre=r"\alpha", post=r"\beta")
    assert not standalone("z", tex) and not standalone("a", tex)


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", NETWORK_FAMILIES)
def test_renamed_output_replaces_yhat(family, seed, sheet):
    assert r"\hat{y}" not in rendered(family, seed, sheet, profile="separate-bias", out_post=r"\hat{o}")


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", NETWORK_FAMILIES)
def test_renamed_target_replaces_y(family, seed, sheet):
    assert not standalone("y", rendered(family, seed, sheet, profile="separate-bias", target="t"))


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", NETWORK_FAMILIES)
def test_derivative_letter_override_replaces_partial(family, seed, sheet):
    assert r"\partial" not in rendered(family, seed, sheet, profile="separate-bias", d=r"\mathrm{d}")


def test_renaming_the_hidden_letter_renames_the_output_letter_it_shares():
    assert resolve({"profile": "separate-bias", "pre": r"\alpha"}).out_pre == r"\alpha"


# -- index base ---------------------------------------------------------------------------------
def _inputs(family: str, seed: int) -> int:
    return question(family, seed, profile="separate-bias").params["network"]["layers"][0]["W"][0].__len__()


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", NETWORK_FAMILIES)
def test_index_base_0_numbers_features_from_0(family, seed, sheet):
    assert "x_{0}" in rendered(family, seed, sheet, profile="separate-bias", index_base=0)


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", NETWORK_FAMILIES)
def test_index_base_0_has_no_feature_numbered_n(family, seed, sheet):
    n = _inputs(family, seed)
    assert f"x_{{{n}}}" not in rendered(family, seed, sheet, profile="separate-bias", index_base=0)


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_mlp_statement_names_neuron_0_from_index_base_0(seed, sheet):
    assert "to neuron $0$ of layer 1" in rendered("mlp-backprop", seed, sheet, profile="bias-row", index_base=0)


# -- bias convention ----------------------------------------------------------------------------
BIASES = ["row", "column", "separate"]


def _bias_symbol(bias: str) -> str:
    """How the bias of unit 1 of layer 1 prints under separate-bias's marks with that convention."""
    return resolve({"profile": "separate-bias", "bias": bias}).for_network([2, 2, 1]).symbol(Sym("b", 1, (1,)))


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("family", NETWORK_FAMILIES)
def test_bias_override_writes_the_bias_its_way(family, bias, seed, sheet):
    assert _bias_symbol(bias) in rendered(family, seed, sheet, profile="separate-bias", bias=bias)


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("bias", ["row", "column"])
@pytest.mark.parametrize("family", NETWORK_FAMILIES)
def test_folded_bias_override_drops_the_separate_bias(family, bias, seed, sheet):
    assert _bias_symbol("separate") not in rendered(family, seed, sheet, profile="separate-bias", bias=bias)


@pytest.mark.parametrize("bias, rule", [("row", r"^{\mathsf T} \begin{bmatrix} 1 \\"),
                                        ("column", r"W^{(1)} \begin{bmatrix} 1 \\"),
                                        ("separate", r"+ \boldsymbol{b^{(1)}}")])
def test_mlp_statement_states_the_affine_map_in_the_bias_convention(bias, rule):
    assert rule in rendered("mlp-backprop", 0, "exam", profile="separate-bias", bias=bias)


@pytest.mark.parametrize("bias, shape", [("row", [3, 2]), ("column", [2, 3]), ("separate", [2, 2])])
def test_mlp_shape_answer_follows_the_bias_convention(bias, shape):
    q = solve("mlp-backprop", params={"network": SEED_001, "asked": ["W2[1,1]", "W1[1,1]"]},
              notation={"profile": "bias-row", "bias": bias})
    assert next(p.answer for p in q.parts if p.id == "shape.W1") == shape


SEED_001 = {"layers": [{"W": [[3, -1], [-3, 1]], "b": [2, -1], "activation": "relu"},
                       {"W": [[-2, 2]], "b": [1], "activation": "sigmoid"}],
            "loss": "squared_error", "reduction": "mean", "data": [{"x": [2, 5], "y": [1]}], "learning_rate": 2}


# -- logistic regression: its own names, the bank's symbols where it sets them ------------------
@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_keeps_its_L_under_a_profile(seed, sheet):
    assert r"\ell" not in rendered("logistic-sgd", seed, sheet, profile="bias-row")


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_writes_an_explicit_loss_symbol(seed, sheet):
    tex = rendered("logistic-sgd", seed, sheet, profile="bias-row", loss=r"\mathcal{E}")
    assert r"\mathcal{E}" in tex and not standalone("L", tex)


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_writes_an_explicit_weight_letter(seed, sheet):
    tex = rendered("logistic-sgd", seed, sheet, profile="bias-row", weight="v")
    assert "v_j" in tex and not standalone("w", tex)


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_writes_the_renamed_target(seed, sheet):
    tex = rendered("logistic-sgd", seed, sheet, profile="bias-row", target="t")
    assert "t - h" in tex and not standalone("y", tex)


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_writes_the_renamed_input(seed, sheet):
    tex = rendered("logistic-sgd", seed, sheet, profile="bias-row", input="u")
    assert r"h(\mathbf{u})" in tex and not standalone("x", tex)


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_derivative_letter_follows_the_profile(seed, sheet):
    assert r"\partial" not in rendered("logistic-sgd", seed, sheet, profile="bias-row")


LOGISTIC = {"x": [2, -1], "w": [0.5, 1], "y": 1, "learning_rate": 1}


@pytest.mark.parametrize("sheet", SHEETS)
def test_logistic_index_base_0_numbers_weights_from_0(sheet):
    q = solve("logistic-sgd", params=LOGISTIC, notation={"profile": "bias-row", "index_base": 0})
    assert "(w_{0}, w_{1}) = (0.5, 1)" in question_body(q, key=sheet == "key")


@pytest.mark.parametrize("sheet", SHEETS)
def test_logistic_index_base_0_keeps_w0_for_the_constant_feature(sheet):
    params = dict(LOGISTIC, w=[0.25, 0.5, 1], constant_feature=True)
    q = solve("logistic-sgd", params=params, notation={"profile": "bias-row", "index_base": 0})
    assert "(w_{0}, w_{1}, w_{2}) = (0.25, 0.5, 1)" in question_body(q, key=sheet == "key")


def test_logistic_symbolic_answer_uses_the_renamed_symbols():
    q = solve("logistic-sgd", params=LOGISTIC, notation={"profile": "bias-row", "lr": r"\alpha", "target": "t",
                                                         "weight": "v"})
    assert next(p.answer for p in q.parts if p.id == "derive.update") == "v_j + alpha*x_j*(t - h)"


# -- graph-partials: the course's input letter and index base; ∂ always --------------------------
@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_graph_partials_numbers_inputs_and_units_from_index_base_0(seed, sheet):
    tex = rendered("graph-partials", seed, sheet, profile="bias-row", index_base=0)
    assert "x_{0}" in tex and "r_{0}" in tex and "s_{0}" in tex


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_graph_partials_index_base_0_has_no_second_index_2(seed, sheet):
    tex = rendered("graph-partials", seed, sheet, profile="bias-row", index_base=0)
    assert "x_{2}" not in tex and "r_{2}" not in tex and "s_{2}" not in tex


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_graph_partials_writes_the_renamed_input(seed, sheet):
    tex = rendered("graph-partials", seed, sheet, profile="bias-row", input="u")
    assert "u_{1}" in tex and "x_{1}" not in tex


@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_graph_partials_keeps_partial_because_a_weight_is_named_d(seed, sheet):
    assert r"\partial y" in rendered("graph-partials", seed, sheet, profile="bias-row", d="d")


# -- families without a network ignore the notation -----------------------------------------------
@pytest.mark.parametrize("sheet", SHEETS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", ["activations", "chain-rule", "graph-forward"])
def test_family_without_a_network_renders_the_same_in_any_notation(family, seed, sheet):
    overridden = rendered(family, seed, sheet, profile="bias-row", lr=r"\alpha", index_base=0, pre=r"\xi",
                          post=r"\omega", d=r"\mathrm{d}", bias="separate", bias_letter="c", input="u")
    assert overridden == rendered(family, seed, sheet, profile="bias-column")


# -- a bank's per-question notation reaches the whole document --------------------------------------
BANK = r"""
exam:
  id: notation-test
  title: Notation
  notation: {profile: bias-column, lr: '\lambda'}
questions:
  - family: mlp-backprop
  - family: regression-mlp
    notation: {profile: scalar-layers, lr: '\beta', index_base: 0, bias: separate}
"""


@pytest.mark.parametrize("kind", SHEETS)
def test_bank_notation_and_question_override_reach_the_document(tmp_path, kind):
    path = tmp_path / "bank.yaml"
    path.write_text(BANK, encoding="utf-8")
    bank = load_bank(path)
    tex = render_version(bank, build_version(bank, "1"), key=kind == "key")
    assert r"\lambda = " in tex and r"\beta = " in tex and r"\eta" not in tex


# -- bad overrides are errors naming the key --------------------------------------------------------
BAD = [
    ({"colour": "red"}, "colour"),
    ({"bias": "diagonal"}, "exam.notation.bias"),
    ({"bias": 1}, "exam.notation.bias"),
    ({"index_base": 2}, "exam.notation.index_base"),
    ({"index_base": True}, "exam.notation.index_base"),
    ({"lone_index": "no"}, "exam.notation.lone_index"),
    ({"lr": 3}, "exam.notation.lr"),
    ({"lr": ""}, "exam.notation.lr"),
    ({"layer_style": "under"}, "exam.notation.layer_style"),
    ({"pre": "z", "post": "z"}, "exam.notation.post"),
]


@pytest.mark.parametrize("override, named", BAD, ids=[next(iter(o)) + "=" + repr(o[next(iter(o))]) for o, _ in BAD])
def test_bad_override_names_the_key(override, named):
    with pytest.raises(BankError) as exc:
        resolve({"profile": "separate-bias", **override}, where="exam.notation")
    assert named in str(exc.value)


def test_separate_bias_that_clashes_with_an_output_letter_names_both_keys():
    with pytest.raises(BankError) as exc:
        resolve({"profile": "bias-column", "bias": "separate"}, where="exam.notation")  # b: output and bias
    assert "out_pre" in str(exc.value) and "bias_letter" in str(exc.value)


def test_bad_override_in_a_bank_names_the_file_and_key(tmp_path):
    path = tmp_path / "bank.yaml"
    path.write_text(BANK.replace("lr: '\\lambda'", "bias: diagonal"), encoding="utf-8")
    with pytest.raises(BankError) as exc:
        load_bank(path)
    assert "bank.yaml" in str(exc.value) and "exam.notation.bias" in str(exc.value)
