"""qgen.tables: the no-calculator mode's function table, table-mode networks and the hand-arithmetic check."""

from __future__ import annotations

import math
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qgen import numeric
from qgen.expr import Const, Fn, Prod, Ref, Sub
from qgen.nn import dense
from qgen.nn import functions as fn
from qgen.nn.network import Network
from qgen.notation import Sym
from qgen.render.latex import render_string
from qgen.tables import (
    INEXACT,
    OFF_TABLE,
    REPEATING,
    STANDARD,
    TOO_LARGE,
    FunctionTable,
    hand_arithmetic_problems,
    too_many_places,
)
from qgen.trace import Trace
from tests.conftest import needs_latex

F = Fraction
SIGMOID_POINTS = range(-3, 4)
TANH_POINTS = range(-2, 3)


def hundredths(x: float) -> Fraction:
    """`x` rounded half away from zero to 2 decimals, by hand (not with qgen.numeric)."""
    return Fraction(int(math.copysign(math.floor(abs(x) * 100 + 0.5), x)), 100)


def _sigmoid(z: float) -> float:
    return float(1 / (1 + mpmath.exp(-z)))


INDEPENDENT = {
    "sigmoid": _sigmoid,
    "dsigmoid": lambda z: _sigmoid(z) * (1 - _sigmoid(z)),
    "tanh": lambda z: float(np.tanh(z)),
    "dtanh": lambda z: float(1 - np.tanh(z) ** 2),
    "exp": lambda z: float(np.exp(z)),
}


# -- the standard table's values -----------------------------------------------------------
@pytest.mark.parametrize("name,z", [(n, z) for n in ("sigmoid", "dsigmoid") for z in SIGMOID_POINTS]
                         + [(n, z) for n in ("tanh", "dtanh", "exp") for z in TANH_POINTS])
def test_standard_value_is_the_function_rounded_to_two_places(name, z):
    assert STANDARD.lookup(name, F(z)) == hundredths(INDEPENDENT[name](z))


@pytest.mark.parametrize("z", SIGMOID_POINTS)
def test_standard_ln_is_the_log_of_the_stated_sigmoid(z):
    s = STANDARD.lookup("sigmoid", F(z))
    assert STANDARD.lookup("ln", s) == hundredths(float(np.log(float(s))))


@pytest.mark.parametrize("name,z,value", [
    ("sigmoid", 1, "0.73"), ("dsigmoid", 1, "0.20"), ("sigmoid", 0, "0.5"), ("dsigmoid", 0, "0.25"),
    ("sigmoid", -2, "0.12"), ("dsigmoid", 2, "0.10"), ("tanh", 1, "0.76"), ("dtanh", 1, "0.42"),
    ("tanh", -2, "-0.96"), ("dtanh", 0, "1"), ("exp", 1, "2.72"),
])
def test_standard_values_as_an_exam_table_prints_them(name, z, value):
    assert STANDARD.lookup(name, F(z)) == F(value)


@pytest.mark.parametrize("arg,value", [("0.73", "-0.31"), ("0.27", "-1.31"), ("0.5", "-0.69"), ("0.05", "-3")])
def test_standard_ln_values(arg, value):
    assert STANDARD.lookup("ln", F(arg)) == F(value)


def test_sigmoid_points_are_the_integers_from_minus_3_to_3():
    assert sorted(STANDARD.values("sigmoid")) == list(SIGMOID_POINTS)


def test_tanh_points_are_the_integers_from_minus_2_to_2():
    assert sorted(STANDARD.values("dtanh")) == list(TANH_POINTS)


def test_every_standard_value_is_a_fraction_of_at_most_two_decimals():
    values = [v for n in STANDARD.names for v in STANDARD.values(n).values()]
    assert all(isinstance(v, Fraction) and numeric.terminating_places(v) <= 2 for v in values)


@pytest.mark.parametrize("z", SIGMOID_POINTS)
def test_one_minus_a_stated_sigmoid_is_the_stated_sigmoid_of_minus_z(z):
    # so ln(1 − ŷ) of the cross-entropy is on the table whenever ln ŷ is
    assert 1 - STANDARD.lookup("sigmoid", F(z)) == STANDARD.lookup("sigmoid", F(-z))


# -- lookup, restricted, computed ------------------------------------------------------------
def test_lookup_off_the_table_is_none():
    assert STANDARD.lookup("sigmoid", F(3, 2)) is None


def test_lookup_beyond_the_tanh_points_is_none():
    assert STANDARD.lookup("tanh", F(3)) is None


def test_lookup_of_an_inexact_argument_is_none():
    assert STANDARD.lookup("sigmoid", numeric.CTX.mpf(1)) is None


def test_lookup_of_a_function_not_in_the_table_is_none():
    assert STANDARD.lookup("relu", F(1)) is None


def test_lookup_accepts_an_int():
    assert STANDARD.lookup("sigmoid", 1) == F(73, 100)


def test_restricted_keeps_only_the_named_functions():
    assert STANDARD.restricted(["sigmoid", "dsigmoid"]).names == ("sigmoid", "dsigmoid")


def test_restricted_table_has_no_value_for_a_dropped_function():
    assert STANDARD.restricted(["sigmoid"]).lookup("tanh", F(1)) is None


def test_restricted_to_an_unknown_function_raises():
    with pytest.raises(ValueError) as exc:
        STANDARD.restricted(["softplus"])
    assert "softplus" in str(exc.value)


def test_computed_rejects_a_function_that_needs_no_table():
    with pytest.raises(ValueError) as exc:
        FunctionTable.computed({"relu": [1]})
    assert "relu" in str(exc.value)


def test_computed_rounds_to_the_places_asked():
    assert FunctionTable.computed({"sigmoid": [1]}, places=3).lookup("sigmoid", F(1)) == F("0.731")


def test_tables_with_the_same_values_are_equal():
    assert FunctionTable.standard() == STANDARD


# -- printing ----------------------------------------------------------------------------
def test_columns_of_the_cross_entropy_bring_the_sigmoid():
    assert STANDARD.columns(["dsigmoid", "ln"]) == ["sigmoid", "dsigmoid", "ln"]


def test_columns_follow_the_printing_order():
    assert STANDARD.columns(["dtanh", "tanh", "sigmoid"]) == ["sigmoid", "tanh", "dtanh"]


def test_rows_of_a_tanh_table_are_its_five_points():
    assert [z for z, _ in STANDARD.rows(["tanh", "dtanh"])] == list(TANH_POINTS)


def test_row_of_the_ln_column_is_the_log_of_that_rows_sigmoid():
    assert dict(STANDARD.rows(["ln"]))[F(1)] == (F("0.73"), F("-0.31"))


def test_rows_leave_a_cell_empty_where_a_function_has_no_point():
    assert dict(STANDARD.rows(["sigmoid", "tanh"]))[F(3)] == (F("0.95"), None)


def test_tex_header_names_the_functions():
    assert STANDARD.tex(["sigmoid", "dsigmoid", "ln"])["header"] == ["z", r"\sigma(z)", r"\sigma'(z)", r"\ln \sigma(z)"]


def test_tex_keeps_trailing_zeros_and_aligns_signs():
    rows = STANDARD.tex(["sigmoid", "dsigmoid", "ln"])["rows"]
    assert rows[4] == [r"\phantom{-}1", "0.73", "0.20", "-0.31"]


def test_tex_leaves_missing_cells_empty():
    assert STANDARD.tex(["sigmoid", "tanh"])["rows"][0] == ["-3", "0.05", ""]


def test_rendered_table_is_an_array_with_a_row_per_point():
    text = render_string(r'\BLOCK{ from "function-table.tex.j2" import function_table }\VAR{ function_table(t) }',
                         t=STANDARD.tex(["dsigmoid", "ln"]))
    assert r"\begin{array}{c|ccc}" in text and text.count(r"\\") == 8


# -- networks built with the table ---------------------------------------------------------
def relu_sigmoid(loss: str = "half_squared_error") -> Network:
    """x = (1, 2): z¹ = (2, 1), a¹ = (2, 1) (ReLU), z² = 2 − 1 = 1, ŷ = σ(1) = 0.73, y = 1, η = 1."""
    return Network.from_mapping({"layers": [{"W": [[1, 1], [2, -1]], "b": [-1, 1], "activation": "relu"},
                                            {"W": [[1, -1]], "b": [0], "activation": "sigmoid"}],
                                 "loss": loss, "data": [{"x": [1, 2], "y": [1]}], "learning_rate": 1})


def table_trace(loss: str = "half_squared_error") -> Trace:
    return dense.build(relu_sigmoid(loss), STANDARD)


def test_table_network_output_is_the_stated_sigmoid():
    assert table_trace()["yhat[1]"] == F("0.73")


def test_table_network_sigmoid_factor_is_the_stated_derivative_not_a_times_one_minus_a():
    assert table_trace()["dyhat[1]_dz2[1]"] == F("0.20")


def test_table_network_loss_by_hand():
    assert table_trace()["loss"] == F(1, 2) * F("0.27") ** 2  # ½(1 − 0.73)² = 0.03645


def test_table_network_last_layer_gradient_by_hand():
    # −(1 − 0.73) · 0.2 · a¹₁ = −0.27 · 0.2 · 2
    assert table_trace()["dJ_dW2[1,1]"] == F("-0.108")


def test_table_network_first_layer_gradient_by_hand():
    # −0.054 · W²₁₁ · ReLU′(2) · x₂ = −0.054 · 1 · 1 · 2
    assert table_trace()["dJ_dW1[1,2]"] == F("-0.108")


def test_table_network_update_by_hand():
    assert table_trace()["W2[1,1]_new"] == F("1.108")


def test_table_network_cross_entropy_loss_reads_ln_from_the_table():
    assert table_trace("binary_cross_entropy")["loss"] == F("0.31")


def test_table_network_cross_entropy_passes_yhat_minus_y_back():
    # δ = ŷ − y = 0.73 − 1, times a¹₁ = 2 (not −1/0.73 · 0.20 · 2)
    assert table_trace("binary_cross_entropy")["dJ_dW2[1,1]"] == F("-0.54")


def test_table_network_cross_entropy_delta_formula_is_yhat_minus_y():
    t = table_trace("binary_cross_entropy")
    assert t.quantity("dl_dz2[1]").expr == Sub(Ref("yhat[1]"), Ref("y[1]"))


def test_network_without_a_table_keeps_the_cross_entropy_chain():
    t = dense.build(relu_sigmoid("binary_cross_entropy"))
    assert t.quantity("dl_dz2[1]").expr == Prod((Ref("dl_dyhat[1]"), Ref("dyhat[1]_dz2[1]")))


def test_table_network_tanh_output_and_factor():
    net = Network.from_mapping({"layers": [{"W": [[1]], "b": [1], "activation": "tanh"}],
                                "data": [{"x": [1], "y": [1]}], "learning_rate": 1})
    t = dense.build(net, STANDARD)
    assert (t["yhat[1]"], t["dyhat[1]_dz1[1]"]) == (F("0.96"), F("0.07"))


def test_network_without_a_table_keeps_the_exact_sigmoid_factor():
    t = dense.build(relu_sigmoid())
    s = numeric.sigmoid(F(1))
    assert abs(t["dyhat[1]_dz2[1]"] - s * (1 - s)) < numeric.CTX.mpf("1e-45")


def test_table_network_sigmoid_factor_formula_is_sigma_prime_of_z():
    assert table_trace().quantity("dyhat[1]_dz2[1]").expr == Fn("dsigmoid", (Ref("z2[1]"),))


def test_activation_derivative_in_table_mode_for_tanh():
    assert fn.activation_derivative("tanh", Ref("z"), Ref("a"), table=True) == Fn("dtanh", (Ref("z"),))


def test_activation_derivative_in_table_mode_leaves_relu_alone():
    assert fn.activation_derivative("relu", Ref("z"), Ref("a"), table=True) == Fn("step", (Ref("z"),))


def test_table_keys_of_a_table_network():
    assert table_trace().table_keys() == ["yhat[1]", "dyhat[1]_dz2[1]"]


def test_used_by_a_cross_entropy_network_in_table_mode():
    t = table_trace("binary_cross_entropy")
    assert STANDARD.used_by(q.expr for q in t) == ["sigmoid", "dsigmoid", "ln"]


def test_table_network_ecf_off_the_table_falls_back_to_the_exact_sigmoid():
    env = table_trace().evaluate({"z2[1]": F(3, 2)})
    assert env["yhat[1]"] == numeric.sigmoid(F(3, 2))


def test_table_network_ecf_on_the_table_uses_the_stated_derivative():
    assert table_trace().evaluate({"z2[1]": F(2)})["dyhat[1]_dz2[1]"] == F("0.10")


# -- the hand-arithmetic check ---------------------------------------------------------------
def test_gradients_of_the_relu_sigmoid_network_are_hand_arithmetic():
    assert hand_arithmetic_problems(table_trace(), ["dJ_dW1[1,2]", "W2[1,1]_new", "W1[2,1]_new"]) == []


def test_a_four_decimal_intermediate_is_a_problem():
    # ½(1 − 0.73)²: (0.27)² = 0.0729, ℓ = 0.03645
    assert hand_arithmetic_problems(table_trace(), ["loss"]) == [too_many_places(3)]


def test_more_places_allowed_accepts_the_loss():
    assert hand_arithmetic_problems(table_trace(), ["loss"], max_places=5) == []


def test_a_sigmoid_off_the_table_is_a_problem_named_once():
    net = Network.from_mapping({"layers": [{"W": [[1, 1]], "b": [0], "activation": "sigmoid"},
                                           {"W": [[2]], "b": [0], "activation": "sigmoid"}],
                                "data": [{"x": [1, 0], "y": [1]}], "learning_rate": 1})
    # σ(1) = 0.73 is stated, but z² = 2 · 0.73 = 1.46 is not a table point
    assert hand_arithmetic_problems(dense.build(net, STANDARD), ["W1[1,1]_new"]) == [OFF_TABLE]


def test_a_network_without_a_table_needs_a_calculator():
    assert hand_arithmetic_problems(dense.build(relu_sigmoid()), ["yhat[1]"]) == [OFF_TABLE]


def test_cross_entropy_key_of_the_relu_sigmoid_network_is_hand_arithmetic():
    assert hand_arithmetic_problems(table_trace("binary_cross_entropy"), ["loss", "W1[1,2]_new", "W2[1,1]_new"]) == []


def test_dividing_by_a_stated_sigmoid_is_a_repeating_decimal():
    # the cross-entropy's dℓ/dŷ = −1/0.73 (a factor the table-mode gradients go around)
    assert hand_arithmetic_problems(table_trace("binary_cross_entropy"), ["dl_dyhat[1]"]) == [REPEATING]


def test_a_large_value_is_a_problem():
    net = Network.from_mapping({"layers": [{"W": [[40]], "b": [0], "activation": "linear"}],
                                "data": [{"x": [30], "y": [0]}], "learning_rate": 1})
    assert hand_arithmetic_problems(dense.build(net, STANDARD), ["yhat[1]"]) == [TOO_LARGE]


def test_a_given_inexact_value_is_a_problem():
    t = Trace(table=STANDARD)
    t.given("e", Sym("e"), numeric.exp(F(1)))
    assert hand_arithmetic_problems(t, ["e"]) == [INEXACT]


def test_a_running_product_with_four_decimals_is_a_problem():
    t = Trace(table=STANDARD)
    t.given("q", Sym("q"), "0.25")
    t.add("p", Sym("p"), Prod((Ref("q"), Ref("q"), Const(F(4)))))  # 0.25 · 0.25 = 0.0625, then · 4 = 0.25
    assert hand_arithmetic_problems(t, ["p"]) == [too_many_places(3)]


def test_a_table_value_may_have_more_places_than_the_arithmetic():
    table = FunctionTable.computed({"sigmoid": [1]}, places=4)
    t = Trace(table=table)
    t.given("z", Sym("z"), 1)
    t.add("a", Sym("a"), Fn("sigmoid", (Ref("z"),)))
    assert (t["a"], hand_arithmetic_problems(t, ["a"])) == (F("0.7311"), [])


def test_arithmetic_on_a_four_place_table_value_is_checked():
    table = FunctionTable.computed({"sigmoid": [1]}, places=4)
    t = Trace(table=table)
    t.given("z", Sym("z"), 1)
    t.add("a", Sym("a"), Fn("sigmoid", (Ref("z"),)))
    t.add("b", Sym("b"), Prod((Const(F(2)), Ref("a"))))
    assert hand_arithmetic_problems(t, ["b"]) == [too_many_places(3)]


def test_sigmoid_of_zero_needs_no_table():
    t = Trace(table=STANDARD.restricted(["tanh"]))
    t.given("z", Sym("z"), 0)
    t.add("a", Sym("a"), Fn("sigmoid", (Ref("z"),)))
    assert hand_arithmetic_problems(t, ["a"]) == []


# -- property: integer networks at table points stay exact --------------------------------------
@st.composite
def table_networks(draw):
    """A random integer network whose σ/tanh inputs are table points (biases chosen to land there)."""
    ints = st.integers(-3, 3)
    n_in, h = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    hidden = draw(st.sampled_from(["relu", "linear", "sigmoid", "tanh"]))
    out = draw(st.sampled_from(["sigmoid", "tanh", "linear"]))
    loss = draw(st.sampled_from(["squared_error", "half_squared_error"]
                                + (["binary_cross_entropy"] if out == "sigmoid" else [])))
    x = [F(draw(ints)) for _ in range(n_in)]
    W1 = [[F(draw(ints)) for _ in range(n_in)] for _ in range(h)]
    b1, a1 = [], []
    for row in W1:
        wx = sum(w * v for w, v in zip(row, x))
        if hidden in ("sigmoid", "tanh"):
            z = F(draw(st.integers(-3, 3) if hidden == "sigmoid" else st.integers(-2, 2)))
            b1.append(z - wx)
            a1.append(STANDARD.lookup(hidden, z))
        else:
            b1.append(F(draw(ints)))
            z = wx + b1[-1]
            a1.append(max(z, F(0)) if hidden == "relu" else z)
    W2 = [F(draw(ints)) for _ in range(h)]
    wa = sum(w * v for w, v in zip(W2, a1))
    if out == "linear":
        b2 = F(draw(ints))
    else:
        b2 = F(draw(st.integers(-3, 3) if out == "sigmoid" else st.integers(-2, 2))) - wa
    y = draw(st.sampled_from([0, 1])) if loss == "binary_cross_entropy" else draw(ints)
    return Network.from_mapping({"layers": [{"W": W1, "b": b1, "activation": hidden},
                                            {"W": [W2], "b": [b2], "activation": out}],
                                 "loss": loss, "data": [{"x": x, "y": [y]}],
                                 "learning_rate": draw(st.sampled_from(["0.5", 1, 2]))})


@settings(max_examples=120, deadline=None)
@given(table_networks())
def test_every_value_of_a_table_network_at_table_points_is_a_fraction(net):
    t = dense.build(net, STANDARD)
    assert all(isinstance(v, Fraction) for v in t.values().values())


@settings(max_examples=60, deadline=None)
@given(table_networks())
def test_a_table_network_at_table_points_never_leaves_the_table(net):
    assert OFF_TABLE not in hand_arithmetic_problems(dense.build(net, STANDARD), ["J", "W1[1,1]_new"])


# -- the printed table compiles --------------------------------------------------------------
EXAM = r"""\BLOCK{ from "function-table.tex.j2" import function_table }
\documentclass[11pt,addpoints]{exam}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\begin{document}
\begin{questions}
\question[2] Without a calculator; the values you need are in this table:
\VAR{ function_table(table) }
\begin{parts}
\part[2] What is $\hat y$?
\end{parts}
\end{questions}
\end{document}
"""


@pytest.mark.latex
@needs_latex
def test_printed_table_compiles_in_the_exam_class_with_its_values(tmp_path: Path):
    from qgen.render.pdf import compile_pdf

    tex = tmp_path / "table.tex"
    tex.write_text(render_string(EXAM, table=STANDARD.tex(["dsigmoid", "ln", "tanh", "dtanh"])), encoding="utf-8")
    pdf = compile_pdf(tex)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed; compiled but text not checked")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    assert {"0.73", "0.20", "0.42", "0.96"} <= set(text.split())
