"""Activations and losses as formulas: what a Trace node computes and its local derivative.

Derivatives are written the way exams write them: σ′ in terms of the output, ŷ(1 − ŷ);
tanh′ as 1 − a²; ReLU′ as the indicator [z > 0] (0 at z = 0, as seed 002 takes it). In the
no-calculator mode (`table=True`) σ′(z) and tanh′(z) are read from the printed table instead.

>>> from qgen.expr import latex
>>> latex(activation_derivative("sigmoid", Ref("z"), Ref("a")), str)
'a \\\\cdot \\\\left(1 - a\\\\right)'
"""

from __future__ import annotations

from fractions import Fraction

from qgen.expr import Const, Div, Expr, Fn, Neg, Pow, Prod, Ref, Sub, Sum

ONE = Const(Fraction(1))


def activation(name: str, z: Ref, slope: Fraction | None = None) -> Expr:
    """The formula of a = g(z)."""
    if name == "linear":
        return z
    if name == "leaky_relu":
        return Fn("leaky_relu", (z,), slope)
    return Fn(name, (z,))


def activation_derivative(name: str, z: Ref, a: Ref, slope: Fraction | None = None, table: bool = False) -> Expr:
    """The formula of da/dz, in terms of z or of the activation a; with `table`, σ′(z) and tanh′(z).

    >>> from qgen.expr import latex
    >>> latex(activation_derivative("tanh", Ref("z"), Ref("a"), table=True), str)
    "\\\\tanh'\\\\left(z\\\\right)"
    """
    if name == "sigmoid":
        return Fn("dsigmoid", (z,)) if table else Prod((a, Sub(ONE, a)))
    if name == "tanh":
        return Fn("dtanh", (z,)) if table else Sub(ONE, Pow(a, 2))
    if name == "relu":
        return Fn("step", (z,))
    if name == "leaky_relu":
        return Fn("leaky_step", (z,), slope)
    if name == "linear":
        return ONE
    raise ValueError(f"unknown activation {name!r}")


def loss_term(name: str, y: Ref, yhat: Ref) -> Expr:
    """The per-output loss ℓ(y, ŷ)."""
    if name == "squared_error":
        return Pow(Sub(y, yhat), 2)
    if name == "half_squared_error":
        return Prod((Const(Fraction(1, 2), as_fraction=True), Pow(Sub(y, yhat), 2)))
    if name == "binary_cross_entropy":
        return Neg(Sum((Prod((y, Fn("ln", (yhat,)))), Prod((Sub(ONE, y), Fn("ln", (Sub(ONE, yhat),)))))))
    if name == "cross_entropy":  # one class's term of −Σ_k y_k ln p_k (a softmax output)
        return Neg(Prod((y, Fn("ln", (yhat,)))))
    raise ValueError(f"unknown loss {name!r}")


def loss_derivative(name: str, y: Ref, yhat: Ref) -> Expr:
    """dℓ/dŷ, as the seed documents write it: −2(y − ŷ), −(y − ŷ), −y/ŷ + (1 − y)/(1 − ŷ); −y_k/p_k (softmax)."""
    if name == "squared_error":
        return Prod((Const(Fraction(-2)), Sub(y, yhat)))
    if name == "half_squared_error":
        return Neg(Sub(y, yhat))
    if name == "binary_cross_entropy":
        return Sum((Neg(Div(y, yhat)), Div(Sub(ONE, y), Sub(ONE, yhat))))
    if name == "cross_entropy":
        return Neg(Div(y, yhat))
    raise ValueError(f"unknown loss {name!r}")
