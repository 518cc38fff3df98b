"""Writing a tree back as text that reads back as the same formula (`str(formula)`)."""

from __future__ import annotations

import decimal
import math

from qgen.grade.formula.tree import (
    Apply,
    Bin,
    Call,
    Cases,
    Compare,
    Neg,
    Node,
    Num,
    Truth,
    Var,
)


# -- writing a tree back ----------------------------------------------------------------------------
def _number(v: float) -> str:
    if v == math.e:
        return "e"
    if v == math.pi:
        return "pi"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return format(decimal.Decimal(repr(v)), "f")  # 1e-05 as 0.00001: scientific notation is not read


def _write(node: Node, outer: int = 0) -> str:
    """Text that reads back as the same formula; `outer`: the precedence of the context."""
    if isinstance(node, Num):
        text, prec = _number(node.value), 9
    elif isinstance(node, Var):
        text, prec = node.name, 9
    elif isinstance(node, Truth):
        text, prec = str(node.value), 9
    elif isinstance(node, Call):
        text, prec = f"{node.fn}({', '.join(_write(a) for a in node.args)})", 9
    elif isinstance(node, Apply):
        text, prec = f"{node.name}({', '.join(_write(a) for a in node.args)})", 9
    elif isinstance(node, Cases):
        cases = ", ".join(f"({_write(v)}, {_write(c) if c is not None else 'True'})" for v, c in node.cases)
        text, prec = f"Piecewise({cases})", 9
    elif isinstance(node, Compare):
        parts = [_write(node.operands[0], 3)]
        for op, o in zip(node.ops, node.operands[1:]):
            parts.append(f"{op} {_write(o, 3)}")
        text, prec = " ".join(parts), 1
    elif isinstance(node, Neg):
        text, prec = f"-{_write(node.arg, 5)}", 4
    elif isinstance(node, Bin) and node.op in "+-":
        right = _write(node.right, 3 if node.op == "-" else 2)
        text, prec = f"{_write(node.left, 2)} {node.op} {right}", 2
    elif isinstance(node, Bin) and node.op in "*/":
        text, prec = f"{_write(node.left, 3)}{node.op}{_write(node.right, 4 if node.op == '/' else 3)}", 3
    elif isinstance(node, Bin):
        text, prec = f"{_write(node.left, 6)}^{_write(node.right, 5)}", 5
    else:  # pragma: no cover - every node kind is handled above
        raise TypeError(node)
    return f"({text})" if prec < outer else text
