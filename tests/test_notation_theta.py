"""qgen.notation additions: the `theta` profile (seed 002), `scalar-layers` (seed 004) and their switches."""

from __future__ import annotations

import pytest

from qgen.errors import BankError
from qgen.notation import PROFILES, Sym, resolve

SEED_002 = [2, 1, 1]  # two inputs, one ReLU hidden unit, one linear output


def theta(widths=SEED_002, **overrides):
    return resolve({"profile": "theta", **overrides}).for_network(widths)


def W(layer, i, j, point=None):
    return Sym("W", layer, (i, j), point)


def b(layer, i):
    return Sym("b", layer, (i,))


def z(layer, i, point=None):
    return Sym("z", layer, (i,), point)


def a(layer, i, point=None):
    return Sym("a", layer, (i,), point)


def loss(point=None):
    return Sym("loss", point=point)


def d(of, wrt):
    return Sym("d", of=of, wrt=wrt)


# -- theta: seed 002 writes θ = (w0, ..., w4), z = w0 x[0] + w1 x[1] + w2, ŷ = w3 h + w4 --------
THETA = [
    (W(1, 1, 1), "w_{0}"),
    (W(1, 1, 2), "w_{1}"),
    (b(1, 1), "w_{2}"),
    (W(2, 1, 1), "w_{3}"),
    (b(2, 1), "w_{4}"),
    (Sym("x", None, (1,)), "x[0]"),
    (Sym("x", None, (2,)), "x[1]"),
    (Sym("x", None, (1,), 2), "x_{2}[0]"),
    (Sym("y", None, (1,), 1), "y_{1}"),
    (z(1, 1), "z"),
    (a(1, 1), "h"),
    (a(2, 1), r"\hat{y}"),
    (z(1, 1, 1), "z(x_{1})"),
    (a(1, 1, 2), "h(x_{2})"),
    (a(2, 1, 1), r"\hat{y}(x_{1})"),
    (loss(1), "L(x_{1}, y_{1})"),
    (Sym("objective"), "L(D)"),
    (Sym("lr"), r"\eta"),
    (d(loss(1), a(2, 1, 1)), r"\delta_{\hat{y}}(x_{1}, y_{1})"),
    (d(loss(2), z(1, 1, 2)), r"\delta_{h}(x_{2}, y_{2})"),
    (d(loss(), z(1, 1)), r"\delta_{h}"),
    (d(loss(1), W(1, 1, 1)), r"\frac{\partial L(x_{1}, y_{1})}{\partial w_{0}}"),
    (d(Sym("objective"), b(2, 1)), r"\frac{\partial L(D)}{\partial w_{4}}"),
    (Sym("new", of=W(1, 1, 2)), "{w_{1}}'"),
]


@pytest.mark.parametrize("sym, expected", THETA, ids=[e for _, e in THETA])
def test_theta_symbol(sym, expected):
    assert theta().symbol(sym) == expected


def test_theta_derivative_by_the_output_pre_activation_is_not_a_delta():
    assert theta().symbol(d(loss(1), z(2, 1, 1))) == r"\frac{\partial L(x_{1}, y_{1})}{\partial z^{(2)}(x_{1})}"


def test_theta_derivative_by_a_hidden_activation_is_not_a_delta():
    assert theta().symbol(d(loss(1), a(1, 1, 1))) == r"\frac{\partial L(x_{1}, y_{1})}{\partial h(x_{1})}"


def test_theta_without_delta_writes_the_fraction():
    assert theta(delta="").symbol(d(loss(1), z(1, 1, 1))) == r"\frac{\partial L(x_{1}, y_{1})}{\partial z(x_{1})}"


def test_theta_numbers_a_second_hidden_unit_after_the_first_units_bias():
    nt = theta([2, 2, 1])
    assert [nt.symbol(s) for s in (b(1, 1), W(1, 2, 1), b(1, 2), W(2, 1, 2), b(2, 1))] == [
        "w_{2}", "w_{3}", "w_{5}", "w_{7}", "w_{8}"]


def test_theta_indexes_units_of_a_wider_layer_from_0():
    assert theta([2, 2, 1]).symbol(a(1, 2, 1)) == "h_{1}(x_{1})"


def test_theta_delta_of_a_second_hidden_unit():
    assert theta([2, 2, 1]).symbol(d(loss(1), z(1, 2, 1))) == r"\delta_{h_{1}}(x_{1}, y_{1})"


def test_theta_with_index_base_1_counts_from_w1():
    assert theta(index_base=1).symbol(b(2, 1)) == "w_{5}"


def test_theta_forward_rule_of_the_hidden_unit_is_the_documents():
    assert theta().forward_rule(1) == "z = w_{0} x[0] + w_{1} x[1] + w_{2}"


def test_theta_forward_rule_of_the_output():
    assert theta().forward_rule(2) == "z^{(2)} = w_{3} h + w_{4}"


def test_theta_flat_index_of_the_output_weight():
    assert theta().flat_index(W(2, 1, 1)) == 3


def test_flat_numbering_needs_the_widths():
    with pytest.raises(ValueError) as exc:
        PROFILES["theta"].symbol(W(1, 1, 1))
    assert "for_network" in str(exc.value)


def test_theta_matrix_reads_row_by_row_in_the_order_of_theta():
    assert PROFILES["theta"].weight_matrix([[1, 2], [3, 4]], [5, 6]) == [[1, 2, 5], [3, 4, 6]]


def test_theta_weight_shape_holds_the_bias_column():
    assert PROFILES["theta"].weight_shape(2, 3) == (2, 4)


def test_point_input_in_argument_style():
    assert theta().point_input(2) == "x_{2}"


def test_point_input_in_superscript_style():
    assert PROFILES["separate-bias"].point_input(2) == r"\boldsymbol{x}^{(2)}"


def test_point_target_in_superscript_style():
    assert PROFILES["bias-row"].point_target(3) == "y^{(3)}"


# -- scalar-layers: seed 004 writes w1, b1, z1, a1, z2, a2 ---------------------------------
SCALAR = [
    (W(1, 1, 1), "w_{1}"),
    (b(1, 1), "b_{1}"),
    (W(2, 1, 1), "w_{2}"),
    (b(2, 1), "b_{2}"),
    (z(1, 1), "z_{1}"),
    (a(1, 1), "a_{1}"),
    (z(2, 1), "z_{2}"),
    (a(2, 1), "a_{2}"),
    (Sym("x", None, (1,)), "x"),
    (Sym("x", None, (1,), 2), "{x}^{(2)}"),
    (a(1, 1, 1), "{a_{1}}^{(1)}"),
    (Sym("objective"), "L"),
    (Sym("lr"), r"\alpha"),
    (d(Sym("objective"), W(1, 1, 1)), r"\frac{\partial L}{\partial w_{1}}"),
]


@pytest.mark.parametrize("sym, expected", SCALAR, ids=[e for _, e in SCALAR])
def test_scalar_layers_symbol(sym, expected):
    assert resolve("scalar-layers").for_network([1, 1, 1]).symbol(sym) == expected


def test_scalar_layers_keeps_the_index_of_a_wider_layer():
    nt = resolve("scalar-layers").for_network([1, 2, 1])
    assert [nt.symbol(s) for s in (W(1, 2, 1), b(1, 2), W(2, 1, 2), a(1, 2))] == [
        "w_{1,2}", "b_{1,2}", "w_{2,2}", "a_{1,2}"]


def test_lone_index_is_kept_before_the_widths_are_known():
    assert PROFILES["scalar-layers"].symbol(W(1, 1, 1)) == "w_{1,11}"


# -- the switches on other profiles -----------------------------------------------------------
def test_argument_style_on_separate_bias():
    nt = resolve({"profile": "separate-bias", "point_style": "argument"}).for_network([2, 2, 1])
    assert nt.symbol(z(1, 1, 3)) == "z^{(1)}_{1}(x_{3})"


def test_argument_style_writes_the_loss_of_a_point_with_both_arguments():
    nt = resolve({"profile": "bias-column", "point_style": "argument"}).for_network([2, 2, 1])
    assert nt.symbol(loss(2)) == r"\ell(x_{2}, y_{2})"


def test_bracket_features_on_bias_row():
    assert resolve({"profile": "bias-row", "input_index": "bracket"}).symbol(Sym("x", None, (2,))) == "x[2]"


def test_delta_in_superscript_style():
    nt = resolve({"profile": "separate-bias", "delta": r"\delta"}).for_network([2, 2, 1])
    assert nt.symbol(d(loss(1), z(1, 2, 1))) == r"{\delta_{a^{(1)}_{2}}}^{(1)}"


def test_existing_profiles_write_no_delta():
    assert PROFILES["bias-column"].symbol(d(loss(), a(2, 1))) == r"\frac{\partial \ell}{\partial \hat{y}}"


# -- resolve ---------------------------------------------------------------------------------
def test_resolve_theta_by_name():
    assert resolve("theta").name == "theta"


def test_resolve_unknown_point_style_names_the_key():
    with pytest.raises(BankError) as exc:
        resolve({"profile": "theta", "point_style": "subscript"}, where="exam.notation")
    assert "exam.notation.point_style" in str(exc.value)


def test_resolve_unknown_input_index_names_the_key():
    with pytest.raises(BankError) as exc:
        resolve({"profile": "theta", "input_index": "paren"}, where="exam.notation")
    assert "exam.notation.input_index" in str(exc.value)


def test_resolve_lone_index_must_be_true_or_false():
    with pytest.raises(BankError) as exc:
        resolve({"profile": "scalar-layers", "lone_index": "no"}, where="exam.notation")
    assert "exam.notation.lone_index" in str(exc.value)


def test_resolve_accepts_lone_index_false():
    assert resolve({"profile": "separate-bias", "lone_index": False}).lone_index is False


def test_resolve_widths_are_not_a_notation_choice():
    with pytest.raises(BankError) as exc:
        resolve({"profile": "theta", "widths": "2,1,1"}, where="exam.notation")
    assert "widths" in str(exc.value)


def test_resolve_unknown_layer_style_names_the_key():
    with pytest.raises(BankError) as exc:
        resolve({"profile": "bias-row", "layer_style": "diagonal"}, where="exam.notation")
    assert "exam.notation.layer_style" in str(exc.value)


def test_for_network_remembers_the_widths():
    assert PROFILES["theta"].for_network([2, 1, 1]).widths == (2, 1, 1)


def test_widths_do_not_change_equality():
    assert PROFILES["theta"].for_network([2, 1, 1]) == PROFILES["theta"]


def test_updated_quantity_of_a_point_compiles_with_an_accent():
    # {{\hat{y}}^{(1)}}' is a double superscript in TeX (the group is the accent atom itself)
    nt = PROFILES["bias-column"].for_network([2, 2, 1])
    assert nt.symbol(Sym("new", of=a(2, 1, 1))) == r"{{}{\hat{y}}^{(1)}}'"


def test_updated_quantity_of_a_point_in_argument_style():
    assert theta().symbol(Sym("new", of=a(2, 1, 1))) == r"{\hat{y}(x_{1})}'"


def test_theta_forward_rule_stacks_several_units():
    assert theta([2, 2, 1]).forward_rule(1) == (r"\begin{gathered} z_{0} = w_{0} x[0] + w_{1} x[1] + w_{2} \\ "
                                                r"z_{1} = w_{3} x[0] + w_{4} x[1] + w_{5} \end{gathered}")
