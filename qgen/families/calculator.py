"""The no-calculator mode as families use it: the table, the hand-arithmetic constraint, the statement.

A bank asks for it with `calculator: false`; a family that supports it (`calculator_free = True`)
draws from its `no_calculator_domain`, stores `calculator: false` in the parameters (so a pinned
or regenerated instance keeps it), builds its Trace with the standard function table, rejects
draws whose worked solutions need more than short decimals, and prints the table it uses.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from qgen.errors import BankError
from qgen.families.rules import problem
from qgen.tables import STANDARD, FunctionTable, hand_arithmetic_problems
from qgen.trace import Trace


def table_for(params: Mapping[str, Any]) -> FunctionTable | None:
    """The function table of an instance: the standard one without a calculator, else none."""
    flag = params.get("calculator", True)
    if not isinstance(flag, bool):
        raise BankError(f"params.calculator: expected true or false, got {flag!r}")
    return None if flag else STANDARD


def hand_problems(trace: Trace, keys: Iterable[str]) -> list[str]:
    """The hand_arithmetic problems of the worked solutions of `keys` (none with a calculator)."""
    if trace.table is None:
        return []
    return [problem("hand_arithmetic", p) for p in hand_arithmetic_problems(trace, keys)]


def statement(trace: Trace) -> dict[str, Any]:
    """The template context of the printed table: the functions this question uses (empty if none)."""
    if trace.table is None:
        return {}
    names = trace.table.used_by(q.expr for q in trace)
    return {"function_table": trace.table.tex(names)} if names else {}
