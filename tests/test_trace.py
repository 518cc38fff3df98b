"""qgen.trace: the solved instance as a DAG; error-carried-forward, ancestors, worked lines."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import pytest

from qgen import numeric
from qgen.bank import load_params
from qgen.expr import Const, Prod, Ref, Sum
from qgen.notation import PROFILES, Sym
from qgen.solve import solve
from qgen.trace import Trace

PINS = Path(__file__).resolve().parent.parent / "banks" / "pins"
WRONG_YHAT = Fraction(3, 10)  # a student's wrong ŷ for seed 000 (true ŷ ≈ 0.1192)


@lru_cache(maxsize=None)
def seed_000():
    return solve("mlp-backprop", params=load_params(PINS / "seed-000.yaml"))


def ecf_env():
    return seed_000().trace.evaluate({"yhat[1]": WRONG_YHAT})


# -- error carried forward ------------------------------------------------------------
def test_ecf_keeps_the_overridden_value():
    assert ecf_env()["yhat[1]"] == WRONG_YHAT


def test_ecf_recomputes_the_loss_from_the_wrong_prediction():
    # seed 000: ℓ = ½(y − ŷ)², y = 1
    assert ecf_env()["loss"] == Fraction(1, 2) * (1 - WRONG_YHAT) ** 2


def test_ecf_recomputes_the_objective():
    assert ecf_env()["J"] == Fraction(1, 2) * (1 - WRONG_YHAT) ** 2


def test_ecf_recomputes_dl_dyhat():
    assert ecf_env()["dl_dyhat[1]"] == -(1 - WRONG_YHAT)


def test_ecf_recomputes_the_sigmoid_factor_from_the_output():
    assert ecf_env()["dyhat[1]_dz2[1]"] == WRONG_YHAT * (1 - WRONG_YHAT)


def test_ecf_recomputes_the_last_layer_gradient():
    # dℓ/dW²₁₁ = −(y − ŷ)·ŷ(1 − ŷ)·β¹₁ with β¹₁ = σ(0) = ½
    expected = -(1 - WRONG_YHAT) * WRONG_YHAT * (1 - WRONG_YHAT) * Fraction(1, 2)
    assert ecf_env()["dJ_dW2[1,1]"] == expected


def test_ecf_recomputes_the_first_layer_gradient():
    # dℓ/dW¹₂₁ = −(y − ŷ)·ŷ(1 − ŷ)·W²₁₁·β¹₁(1 − β¹₁)·x₂ = …·2·¼·5
    expected = -(1 - WRONG_YHAT) * WRONG_YHAT * (1 - WRONG_YHAT) * 2 * Fraction(1, 4) * 5
    assert ecf_env()["dJ_dW1[1,2]"] == expected


def test_ecf_recomputes_the_update():
    expected = 2 - 2 * (-(1 - WRONG_YHAT) * WRONG_YHAT * (1 - WRONG_YHAT) * Fraction(1, 2))
    assert ecf_env()["W2[1,1]_new"] == expected


def test_ecf_leaves_upstream_values_untouched():
    t = seed_000().trace
    upstream = t.ancestors(["z2[1]"])
    env = ecf_env()
    assert {k: env[k] for k in upstream} == {k: t[k] for k in upstream}


def test_ecf_does_not_change_the_trace_itself():
    t = seed_000().trace
    t.evaluate({"yhat[1]": WRONG_YHAT})
    assert round(numeric.to_float(t["yhat[1]"]), 4) == 0.1192


def test_ecf_through_a_wrong_factor():
    t = seed_000().trace
    env = t.evaluate({"dyhat[1]_dz2[1]": Fraction(1, 10)})
    expected = numeric.mul(t["dl_dyhat[1]"], Fraction(1, 20))  # × the wrong factor × β¹₁ = ½
    assert abs(env["dJ_dW2[1,1]"] - expected) < numeric.CTX.mpf("1e-45")


def test_ecf_without_overrides_reproduces_every_value():
    t = seed_000().trace
    assert t.evaluate() == t.values()


# -- ancestors -----------------------------------------------------------------------
def test_ancestors_of_a_pre_activation_in_build_order():
    assert seed_000().trace.ancestors(["z1[1]"]) == ["W1[1,1]", "W1[1,2]", "b1[1]", "x[1]", "x[2]", "z1[1]"]


def test_ancestors_of_a_gradient_include_its_factors_and_delta():
    deps = seed_000().trace.ancestors(["dJ_dW2[1,1]"])
    assert {"dl_dyhat[1]", "dyhat[1]_dz2[1]", "dl_dz2[1]", "dz2[1]_dW2[1,1]", "yhat[1]", "x[2]"} <= set(deps)


def test_ancestors_of_a_gradient_exclude_the_learning_rate_and_the_loss():
    deps = seed_000().trace.ancestors(["dJ_dW2[1,1]"])
    assert {"lr", "loss", "J"} & set(deps) == set()


def test_ancestors_are_in_build_order():
    t = seed_000().trace
    deps = t.ancestors(["W1[1,2]_new"])
    order = t.keys()
    assert deps == sorted(deps, key=order.index)


# -- building -----------------------------------------------------------------------
def test_defining_a_key_twice_raises_key_error():
    t = Trace()
    t.given("x", Sym("x", index=(1,)), 3)
    with pytest.raises(KeyError) as exc:
        t.given("x", Sym("x", index=(1,)), 4)
    assert "defined twice" in str(exc.value)


def test_adding_a_formula_twice_raises_key_error():
    t = Trace()
    t.given("x", Sym("x", index=(1,)), 3)
    t.add("y2", Sym("y"), Prod((Const(Fraction(2)), Ref("x"))))
    with pytest.raises(KeyError) as exc:
        t.add("y2", Sym("y"), Ref("x"))
    assert "y2" in str(exc.value)


def test_formula_over_an_unknown_key_raises_key_error():
    t = Trace()
    with pytest.raises(KeyError) as exc:
        t.add("y", Sym("y"), Ref("nowhere"))
    assert "nowhere" in str(exc.value)


def test_given_value_from_a_float_is_exact():
    t = Trace()
    t.given("x", Sym("x", index=(1,)), 1.3)
    assert t["x"] == Fraction(13, 10)


def test_deps_without_repeats():
    t = Trace()
    t.given("a", Sym("x", index=(1,)), 2)
    t.add("b", Sym("y"), Sum((Ref("a"), Prod((Ref("a"), Ref("a"))))))
    assert t.quantity("b").deps == ("a",)


def test_keys_by_role_lists_every_gradient_of_seed_000():
    grads = seed_000().trace.keys("grad")
    assert sorted(grads) == sorted(["dJ_db2[1]", "dJ_dW2[1,1]", "dJ_dW2[1,2]", "dJ_db1[1]", "dJ_dW1[1,1]",
                                    "dJ_dW1[1,2]", "dJ_db1[2]", "dJ_dW1[2,1]", "dJ_dW1[2,2]"])


# -- worked solutions -----------------------------------------------------------------
def test_explain_first_layer_gradient_of_seed_000_in_bias_row_notation():
    q = seed_000()
    expected = (r"\frac{d \ell}{d W^{1}_{21}} = \frac{d \ell}{d \hat{y}} \cdot \frac{d \hat{y}}{d \alpha^{2}}"
                r" \cdot \frac{d \alpha^{2}}{d \beta^{1}_{1}} \cdot \frac{d \beta^{1}_{1}}{d \alpha^{1}_{1}}"
                r" \cdot \frac{d \alpha^{1}_{1}}{d W^{1}_{21}}"
                r" = \left(-0.8808\right) \cdot 0.1050 \cdot 2 \cdot 0.25 \cdot 5 \approx -0.2312")
    assert q.trace.explain("dJ_dW1[1,2]", PROFILES["bias-row"].for_network([2, 2, 1])) == expected


def test_explain_hidden_pre_activation_of_seed_000_reads_as_the_document():
    q = seed_000()
    expected = (r"\alpha^{1}_{1} = W^{1}_{01} + W^{1}_{11} \cdot x_{1} + W^{1}_{21} \cdot x_{2}"
                r" = -1 + \left(-2\right) \cdot 2 + 1 \cdot 5 = 0")
    assert q.trace.explain("z1[1]", PROFILES["bias-row"].for_network([2, 2, 1])) == expected


def test_explain_update_of_seed_000():
    q = seed_000()
    expected = (r"{W^{1}_{21}}' = W^{1}_{21} - \lambda \cdot \frac{d \ell}{d W^{1}_{21}}"
                r" = 1 - 2 \cdot \left(-0.2312\right) \approx 1.4624")
    assert q.trace.explain("W1[1,2]_new", PROFILES["bias-row"].for_network([2, 2, 1])) == expected


def test_explain_of_a_given_quantity_is_symbol_equals_value():
    t = Trace()
    t.given("a", Sym("x", index=(1,)), "1.5")
    assert t.explain("a", PROFILES["bias-column"]) == "x_{1} = 1.5"


def test_explain_leaves_out_a_repeated_piece():
    t = Trace()
    t.given("a", Sym("x", index=(1,)), "1.5")
    t.add("b", Sym("y"), Prod((Const(Fraction(2)), Ref("a"))))
    assert t.explain("b", PROFILES["bias-column"]) == r"y = 2 \cdot x_{1} = 2 \cdot 1.5 = 3"


def test_chain_factor_product_rounds_like_the_gradient():
    t = seed_000().trace
    value = Fraction(1)
    for k in ["dl_dyhat[1]", "dyhat[1]_dz2[1]", "dz2[1]_da1[1]", "da1[1]_dz1[1]", "dz1[1]_dW1[1,2]"]:
        value = numeric.mul(value, t[k])
    assert numeric.decimal_str(value) == numeric.decimal_str(t["dJ_dW1[1,2]"]) == "-0.2312"


# -- with a function table (no-calculator mode) ----------------------------------------------
from qgen.expr import Fn, Neg  # noqa: E402
from qgen.notation import literal  # noqa: E402
from qgen.tables import STANDARD  # noqa: E402
from qgen.trace import TABLE_NOTE  # noqa: E402

NT = PROFILES["bias-column"]


def sigmoid_trace(z: object = 1, table=STANDARD) -> Trace:
    t = Trace(table=table)
    t.given("z", literal("z"), z)
    t.add("a", literal("a"), Fn("sigmoid", (Ref("z"),)))
    t.add("d", literal("d"), Fn("dsigmoid", (Ref("z"),)), "factor")
    t.add("g", literal("g"), Prod((Const(Fraction(2)), Ref("a"))))
    return t


def test_a_trace_without_a_table_has_none():
    assert Trace().table is None


def test_a_trace_keeps_its_table():
    assert sigmoid_trace().table is STANDARD


def test_add_reads_the_table():
    assert sigmoid_trace()["a"] == Fraction(73, 100)


def test_add_off_the_table_is_exact():
    assert sigmoid_trace("1.5")["a"] == numeric.sigmoid(Fraction(3, 2))


def test_table_keys_are_the_quantities_that_read_the_table():
    assert sigmoid_trace().table_keys() == ["a", "d"]


def test_table_keys_without_a_table_are_empty():
    assert sigmoid_trace(table=None).table_keys() == []


def test_table_reads_name_function_point_and_value():
    (read,) = sigmoid_trace().table_reads("d")
    assert (read.name, read.arg, read.value) == ("dsigmoid", 1, Fraction(1, 5))


def test_ecf_with_a_table_reads_the_table_at_another_point():
    assert sigmoid_trace().evaluate({"z": Fraction(2)})["d"] == Fraction(1, 10)


def test_ecf_with_a_table_off_its_points_falls_back_to_the_exact_function():
    env = sigmoid_trace().evaluate({"z": Fraction(3, 2)})
    assert env["d"] == numeric.dsigmoid(Fraction(3, 2))


def test_ecf_with_a_table_recomputes_downstream_from_the_stated_value():
    assert sigmoid_trace().evaluate({"z": Fraction(-1)})["g"] == Fraction(54, 100)


def test_explain_a_table_value():
    assert sigmoid_trace().explain("a", NT) == r"a = \sigma\left(z\right) = \sigma\left(1\right) = 0.73" + TABLE_NOTE


def test_explain_a_stated_derivative():
    assert sigmoid_trace().explain("d", NT) == r"d = \sigma'\left(z\right) = \sigma'\left(1\right) = 0.2" + TABLE_NOTE


def test_explain_arithmetic_on_a_table_value_has_no_note():
    assert sigmoid_trace().explain("g", NT) == r"g = 2 \cdot a = 2 \cdot 0.73 = 1.46"


def test_explain_off_the_table_has_no_note():
    assert sigmoid_trace("1.5").explain("a", NT) == r"a = \sigma\left(z\right) = \sigma\left(1.5\right) \approx 0.8176"


def test_explain_shows_the_stated_values_inside_a_formula():
    t = Trace(table=STANDARD)
    t.given("p", literal("p"), "0.73")
    t.add("l", literal("l"), Neg(Fn("ln", (Ref("p"),))))
    assert t.explain("l", NT) == r"l = -\ln\left(p\right) = -\ln\left(0.73\right) = -\left(-0.31\right) = 0.31" + TABLE_NOTE
