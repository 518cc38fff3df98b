"""qgen.numeric: exact rationals where possible, 50-digit reals otherwise, rounding only at the edge."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qgen.numeric import (
    CTX,
    Real,
    add,
    decimal_str,
    exact,
    exp,
    is_exact,
    is_shown_exactly,
    log,
    mul,
    real,
    round_to,
    sigmoid,
    tanh,
    terminating_places,
    to_float,
)


# -- decimal_str: what a key prints ------------------------------------------------------
def test_terminating_value_prints_in_full():
    assert decimal_str(Fraction(483, 500)) == "0.966"


def test_gradient_of_seed_002_prints_without_float_noise():
    assert decimal_str(Fraction(17, 5)) == "3.4"


def test_whole_number_prints_without_decimals():
    assert decimal_str(Fraction(24)) == "24"


def test_negative_whole_number():
    assert decimal_str(Fraction(-5)) == "-5"


def test_non_terminating_value_is_rounded_to_four_places():
    assert decimal_str(Fraction(1, 3)) == "0.3333"


def test_negative_non_terminating_value_is_rounded():
    assert decimal_str(Fraction(-2, 3)) == "-0.6667"


def test_places_argument_sets_the_rounding():
    assert decimal_str(Fraction(2, 3), 2) == "0.67"


def test_rounded_real_keeps_trailing_zeros():
    assert decimal_str(CTX.mpf(1) - CTX.mpf("1e-11")) == "1.0000"


def test_sigmoid_of_minus_two_to_four_places():
    assert decimal_str(sigmoid(exact(-2)), 4) == "0.1192"


def test_short_exact_value_is_printed_in_full_even_beyond_places():
    # at most places + 2 digits: 0.00005 is shown as it is rather than rounded to 0.0001
    assert decimal_str(Fraction(5, 100000), 4) == "0.00005"


def test_long_exact_value_is_rounded():
    assert decimal_str(Fraction(5, 10**7), 4) == "0.0000"


def test_tiny_negative_value_rounds_to_unsigned_zero():
    assert decimal_str(Fraction(-1, 10**7)) == "0.0000"


def test_tiny_negative_real_rounds_to_unsigned_zero():
    assert decimal_str(CTX.mpf("-1e-9")) == "0.0000"


def test_large_whole_number_prints_every_digit():
    assert decimal_str(Fraction(10**61)) == "1" + "0" * 61


def test_large_non_terminating_value_is_rounded_to_places():
    assert decimal_str(Fraction(10**70, 3), 2) == "3" * 70 + ".33"


# -- rounding: half away from zero, as by hand --------------------------------------------
def test_round_half_up_at_the_last_place():
    assert round_to(Fraction(5, 100000), 4) == Decimal("0.0001")


def test_round_half_away_from_zero_for_negatives():
    assert round_to(Fraction(-5, 100000), 4) == Decimal("-0.0001")


def test_round_half_is_not_bankers_rounding():
    assert round_to(Fraction(25, 100000), 4) == Decimal("0.0003")


def test_round_just_below_half_goes_down():
    assert round_to(Fraction(4999999, 10**11), 4) == Decimal("0.0000")


@settings(max_examples=200, deadline=None)
@given(st.fractions(min_value=-1000, max_value=1000, max_denominator=2000), st.integers(0, 6))
def test_decimal_str_is_within_half_a_unit_of_the_last_place(v, places):
    assert abs(Fraction(decimal_str(v, places)) - v) <= Fraction(1, 2 * 10**places)


@settings(max_examples=200, deadline=None)
@given(st.fractions(min_value=-1000, max_value=1000, max_denominator=2000), st.integers(0, 6))
def test_decimal_str_is_exact_when_it_says_so(v, places):
    if is_shown_exactly(v, places):
        assert Fraction(decimal_str(v, places)) == v
    else:
        assert Fraction(decimal_str(v, places)) != v


# -- exact inputs ----------------------------------------------------------------------
def test_float_becomes_the_fraction_as_written():
    assert exact(1.3) == Fraction(13, 10)


def test_sum_of_tenths_is_exact():
    assert exact(0.1) + exact(0.2) == Fraction(3, 10)


def test_fraction_string():
    assert exact("1/3") == Fraction(1, 3)


def test_unicode_minus_and_spaces():
    assert exact(" \u22122.5 ") == Fraction(-5, 2)


def test_int_stays_whole():
    assert exact(24) == Fraction(24)


def test_truth_value_is_not_a_number():
    with pytest.raises(TypeError) as exc:
        exact(True)
    assert "truth value" in str(exc.value)


def test_nan_is_not_a_number():
    with pytest.raises(ValueError) as exc:
        exact(float("nan"))
    assert "finite" in str(exc.value)


def test_inexact_real_cannot_be_made_exact():
    with pytest.raises(TypeError) as exc:
        exact(real(Fraction(1, 3)))
    assert "inexact" in str(exc.value)


# -- exactness of transcendental steps -------------------------------------------------
def test_sigmoid_at_zero_is_exactly_one_half():
    assert sigmoid(exact(0)) == Fraction(1, 2)


def test_sigmoid_at_zero_is_a_fraction():
    assert isinstance(sigmoid(exact(0)), Fraction)


def test_sigmoid_elsewhere_is_a_real():
    assert not is_exact(sigmoid(exact(-2)))


def test_sigmoid_of_minus_two_is_one_over_one_plus_e_squared_to_45_digits():
    with mpmath.workdps(80):
        reference = 1 / (1 + mpmath.e**2)
        assert abs(mpmath.mpf(sigmoid(exact(-2))) - reference) < mpmath.mpf("1e-45")


def test_tanh_at_zero_is_exactly_zero():
    assert tanh(Fraction(0)) == Fraction(0)


def test_exp_at_zero_is_exactly_one():
    assert exp(Fraction(0)) == Fraction(1)


def test_log_at_one_is_exactly_zero():
    assert log(Fraction(1)) == Fraction(0)


def test_log_of_zero_is_an_error():
    with pytest.raises(ValueError) as exc:
        log(Fraction(0))
    assert "non-positive" in str(exc.value)


def test_log_of_two_to_45_digits():
    with mpmath.workdps(80):
        assert abs(mpmath.mpf(log(Fraction(2))) - mpmath.log(2)) < mpmath.mpf("1e-45")


# -- mixing exact and real values -----------------------------------------------------
def test_fraction_plus_real_is_a_real():
    assert isinstance(add(Fraction(1, 2), CTX.mpf("0.25")), Real)


def test_fraction_plus_real_value():
    assert add(Fraction(1, 2), CTX.mpf("0.25")) == CTX.mpf("0.75")


def test_fraction_times_real_keeps_50_digits():
    assert abs(mul(Fraction(1, 3), real(3)) - 1) < CTX.mpf("1e-45")


def test_fraction_plus_fraction_stays_exact():
    assert add(Fraction(1, 3), Fraction(1, 6)) == Fraction(1, 2)


# -- bookkeeping -------------------------------------------------------------------------
def test_terminating_places_of_0_966():
    assert terminating_places(Fraction(483, 500)) == 3


def test_terminating_places_of_one_third_is_none():
    assert terminating_places(Fraction(1, 3)) is None


def test_terminating_places_of_a_real_is_none():
    assert terminating_places(real(1)) is None


def test_is_shown_exactly_for_a_short_decimal():
    assert is_shown_exactly(Fraction(1, 4))


def test_is_not_shown_exactly_for_a_real():
    assert not is_shown_exactly(sigmoid(exact(1)))


def test_to_float_of_a_fraction():
    assert to_float(Fraction(1, 4)) == 0.25


def test_to_float_of_a_real():
    assert to_float(sigmoid(exact(-2))) == pytest.approx(0.11920292202211755, rel=1e-15)
