"""qgen.notation: each profile writes the network the way its seed document does."""

from __future__ import annotations

import pytest

from qgen.errors import BankError
from qgen.notation import PROFILES, Sym, resolve

WIDTHS = [2, 2, 1]  # seeds 000 and 001: two inputs, two hidden units, one output


def nt(profile: str, **overrides):
    return resolve({"profile": profile, **overrides}).for_network(WIDTHS)


def W(layer, i, j):
    return Sym("W", layer, (i, j))


def b(layer, i):
    return Sym("b", layer, (i,))


def z(layer, i):
    return Sym("z", layer, (i,))


def a(layer, i):
    return Sym("a", layer, (i,))


SYMBOLS = [
    # bias-row (seed 000): Wᵀx, bias in row 0, α/β, d, λ
    ("bias-row", W(1, 1, 2), "W^{1}_{21}"),
    ("bias-row", W(2, 1, 1), "W^{2}_{11}"),
    ("bias-row", b(1, 2), "W^{1}_{02}"),
    ("bias-row", z(1, 1), r"\alpha^{1}_{1}"),
    ("bias-row", a(1, 2), r"\beta^{1}_{2}"),
    ("bias-row", z(2, 1), r"\alpha^{2}"),
    ("bias-row", a(2, 1), r"\hat{y}"),
    ("bias-row", Sym("lr"), r"\lambda"),
    ("bias-row", Sym("objective"), r"\ell"),
    ("bias-row", Sym("d", of=Sym("loss"), wrt=a(2, 1)), r"\frac{d \ell}{d \hat{y}}"),
    ("bias-row", Sym("new", of=W(1, 1, 2)), "{W^{1}_{21}}'"),
    # bias-column (seed 001 §3): W·x, bias in column 0, a/z/b, ∂, η
    ("bias-column", W(1, 1, 2), "W_{1,1,2}"),
    ("bias-column", W(2, 1, 1), "W_{2,1,1}"),
    ("bias-column", b(1, 2), "W_{1,2,0}"),
    ("bias-column", z(1, 1), "a_{1}"),
    ("bias-column", a(1, 2), "z_{2}"),
    ("bias-column", z(2, 1), "b"),
    ("bias-column", a(2, 1), r"\hat{y}"),
    ("bias-column", Sym("lr"), r"\eta"),
    ("bias-column", Sym("objective"), "J"),
    ("bias-column", Sym("d", of=Sym("objective"), wrt=W(2, 1, 1)), r"\frac{\partial J}{\partial W_{2,1,1}}"),
    # separate-bias (textbook): W and b apart, layer in parentheses
    ("separate-bias", W(1, 1, 2), "W^{(1)}_{12}"),
    ("separate-bias", b(1, 2), "b^{(1)}_{2}"),
    ("separate-bias", z(1, 1), "z^{(1)}_{1}"),
    ("separate-bias", a(1, 1), "a^{(1)}_{1}"),
    ("separate-bias", z(2, 1), "z^{(2)}"),
    ("separate-bias", a(2, 1), r"\hat{y}"),
    # shared by all
    ("bias-row", Sym("x", None, (2,)), "x_{2}"),
    ("bias-column", Sym("y", None, (1,)), "y"),
    ("separate-bias", Sym("x", None, (1,), point=2), "{x_{1}}^{(2)}"),
]


@pytest.mark.parametrize("profile, sym, expected", SYMBOLS, ids=[f"{p}:{e}" for p, _, e in SYMBOLS])
def test_symbol(profile, sym, expected):
    assert nt(profile).symbol(sym) == expected


# -- index base 0 -------------------------------------------------------------------------
INDEX_BASE_0 = [
    ("bias-row", W(1, 1, 2), "W^{1}_{20}"),  # the feature keeps its number (bias is feature 0)
    ("bias-row", z(1, 1), r"\alpha^{1}_{0}"),
    ("bias-column", W(1, 1, 2), "W_{1,0,2}"),
    ("bias-column", z(1, 2), "a_{1}"),
    ("separate-bias", W(1, 1, 2), "W^{(1)}_{01}"),  # no folded bias: features count from 0 too
    ("separate-bias", b(1, 1), "b^{(1)}_{0}"),
    ("separate-bias", Sym("x", None, (1,)), "x_{0}"),
]


@pytest.mark.parametrize("profile, sym, expected", INDEX_BASE_0, ids=[f"{p}:{e}" for p, _, e in INDEX_BASE_0])
def test_symbol_with_index_base_0(profile, sym, expected):
    assert nt(profile, index_base=0).symbol(sym) == expected


def test_several_outputs_keep_the_index_of_yhat():
    assert resolve("separate-bias").for_network([2, 3, 2]).symbol(a(2, 2)) == r"\hat{y}_{2}"


def test_deep_network_marks_hidden_layers_in_bias_column():
    assert resolve("bias-column").for_network([2, 2, 2, 1]).symbol(z(2, 1)) == "a_{2,1}"


# -- the matrices the exam shows -------------------------------------------------------
# seed 000 in canonical form: W¹ = [[-2, 1], [1, 4]] (n_out × n_in), b¹ = [-1, 2]; W² = [[2, -4]], b² = [1]
W1, B1 = [[-2, 1], [1, 4]], [-1, 2]
W2, B2 = [[2, -4]], [1]


def test_bias_row_first_matrix_is_the_documents():
    assert PROFILES["bias-row"].weight_matrix(W1, B1) == [[-1, 2], [-2, 1], [1, 4]]


def test_bias_row_second_matrix_is_a_column():
    assert PROFILES["bias-row"].weight_matrix(W2, B2) == [[1], [2], [-4]]


def test_bias_column_first_matrix_has_the_bias_in_column_0():
    assert PROFILES["bias-column"].weight_matrix(W1, B1) == [[-1, -2, 1], [2, 1, 4]]


def test_bias_column_matrix_of_seed_001_is_the_documents():
    assert PROFILES["bias-column"].weight_matrix([[3, -1], [-3, 1]], [2, -1]) == [[2, 3, -1], [-1, -3, 1]]


def test_separate_bias_matrix_is_the_canonical_one():
    assert PROFILES["separate-bias"].weight_matrix(W1, B1) == [[-2, 1], [1, 4]]


@pytest.mark.parametrize("profile, first, second", [
    ("bias-row", (3, 2), (3, 1)),
    ("bias-column", (2, 3), (1, 3)),
    ("separate-bias", (2, 2), (1, 2)),
])
def test_weight_shapes_of_a_2_2_1_network(profile, first, second):
    p = PROFILES[profile]
    assert (p.weight_shape(2, 2), p.weight_shape(1, 2)) == (first, second)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_weight_matrix_has_the_weight_shape(profile):
    p = PROFILES[profile]
    m = p.weight_matrix([[1, 2, 3], [4, 5, 6]], [7, 8])
    assert (len(m), len(m[0])) == p.weight_shape(2, 3)


def test_bias_row_forward_rule_transposes():
    assert nt("bias-row").forward_rule(1) == (
        r"\boldsymbol{\alpha^{1}} = (W^{1})^{\mathsf T} \begin{bmatrix} 1 \\ \boldsymbol{x} \end{bmatrix}")


def test_separate_bias_forward_rule_adds_the_bias():
    assert nt("separate-bias").forward_rule(2) == (
        r"\boldsymbol{z^{(2)}} = W^{(2)}\,\boldsymbol{a^{(1)}} + \boldsymbol{b^{(2)}}")


# -- resolve -------------------------------------------------------------------------------
def test_resolve_default_is_bias_column():
    assert resolve(None) == PROFILES["bias-column"]


def test_resolve_overrides_a_symbol():
    assert resolve({"profile": "bias-row", "lr": r"\eta"}).for_network(WIDTHS).symbol(Sym("lr")) == r"\eta"


def test_resolve_unknown_profile_names_it():
    with pytest.raises(BankError) as exc:
        resolve("bias-diagonal", where="exam.notation")
    assert "exam.notation" in str(exc.value) and "bias-diagonal" in str(exc.value)


def test_resolve_unknown_key_names_it():
    with pytest.raises(BankError) as exc:
        resolve({"profile": "bias-row", "colour": "red"}, where="exam.notation")
    assert "exam.notation" in str(exc.value) and "colour" in str(exc.value)


def test_resolve_bad_index_base_names_the_key():
    with pytest.raises(BankError) as exc:
        resolve({"profile": "bias-row", "index_base": 2}, where="exam.notation")
    assert "exam.notation.index_base" in str(exc.value)


def test_resolve_non_text_symbol_names_the_key():
    with pytest.raises(BankError) as exc:
        resolve({"profile": "bias-row", "lr": 3}, where="exam.notation")
    assert "exam.notation.lr" in str(exc.value)


def test_resolve_rejects_a_list():
    with pytest.raises(BankError) as exc:
        resolve(["bias-row"], where="exam.notation")
    assert "exam.notation" in str(exc.value)


def test_resolve_overrides_the_bias_convention():
    assert nt("bias-row", bias="column").symbol(W(1, 1, 2)) == "W^{1}_{1,2}"  # W·x indices, bias-row's layer mark


def test_weight_entries_carry_the_layer_mark_of_their_matrix():
    assert nt("bias-row", layer_style="paren").symbol(W(1, 1, 2)) == "W^{(1)}_{21}"


def test_resolve_unknown_bias_convention_names_the_key():
    with pytest.raises(BankError) as exc:
        resolve({"profile": "bias-row", "bias": "diagonal"}, where="exam.notation")
    assert "exam.notation.bias" in str(exc.value) and "diagonal" in str(exc.value)
