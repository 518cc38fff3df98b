"""Family `graph-forward`: forward propagation on a drawn computation graph (seed 003 Q2a).

A random DAG of elementary operations (+, ×, max, min, square, negation, + constant,
× constant) on a scalar input x; nodes (i), (ii), … are drawn as circles. The student fills in
every node's value for a given x in a table. Each node is a Trace quantity whose worked line
is `(iv) = (i) + (ii) = 2 + 3 = 5`.

Parameters (the pin form):
    x: 1
    nodes:                                    # in order (i), (ii), …; the last one is the output
      - {op: add_const, args: [x], c: 1}      # (i) = x + 1
      - {op: add, args: [1, 2]}               # reads node (i) and node (ii)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from functools import partial
from typing import Any, Mapping

import numpy as np

from qgen import numeric
from qgen.errors import BankError, FamilyError
from qgen.expr import Const, Expr, Fn, Neg, Pow, Prod, Ref, Sum, evaluate
from qgen.families.base import Deferred, Question, number_part
from qgen.families.domain import Words, draw, draw_fair
from qgen.families.rules import DEFAULT, Rules, problem
from qgen.nn.network import param_number
from qgen.notation import Notation, literal
from qgen.render.graph_tikz import GraphNode, draw_graph
from qgen.trace import Trace

BINARY = ("add", "mul", "max", "min")
UNARY = ("square", "neg", "add_const", "mul_const")
OPERATIONS = BINARY + UNARY
MAX_NODES = 12
MAX_VALUE = 50
MAX_ZEROS = 1  # varied_nodes: at most this many nodes of value 0
MAX_REPEATS = 3  # varied_nodes: node values repeated at most this often in all (seed 003: 4 values on 7 nodes)
GRID = tuple(Fraction(v, 2) for v in range(-24, 25))  # x values on which "constant" and "repeats" are judged

OP_WORDS = {"add": r"$+$ adds its inputs", "mul": r"$\times$ multiplies its inputs",
            "max": r"$\max$ takes the larger input", "min": r"$\min$ takes the smaller input",
            "square": r"$(\cdot)^2$ squares its input", "neg": r"$-$ negates its input",
            "add_const": r"a circle such as ${label}$ adds that number",
            "mul_const": r"a circle such as ${label}$ multiplies by that number"}


def roman(n: int) -> str:
    """Lower-case Roman numeral.

    >>> roman(4), roman(8)
    ('iv', 'viii')
    """
    out = ""
    for value, letters in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


# -- the graph -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """One operation: op, its arguments ("x" or an earlier node's number, from 1) and constant c."""

    op: str
    args: tuple[str | int, ...]
    c: Fraction | None = None

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "args": list(self.args)}
        if self.c is not None:
            out["c"] = param_number(self.c)
        return out


def key(arg: str | int) -> str:
    """The Trace key of an argument: x, node[1], …"""
    return "x" if arg == "x" else f"node[{arg}]"


def formula(node: Node) -> Expr:
    """The node's formula over its arguments."""
    refs = tuple(Ref(key(a)) for a in node.args)
    if node.op == "add":
        return Sum(refs)
    if node.op == "mul":
        return Prod(refs)
    if node.op in ("max", "min"):
        return Fn(node.op, refs)
    if node.op == "square":
        return Pow(refs[0], 2)
    if node.op == "neg":
        return Neg(refs[0])
    assert node.c is not None
    if node.op == "add_const":
        return Sum((refs[0], Neg(Const(-node.c)) if node.c < 0 else Const(node.c)))
    return Prod((Const(node.c), refs[0]))


def circle_label(node: Node) -> str:
    """What the drawn circle shows: +, \\times, \\max, (\\cdot)^2, +2, -1, \\times 3, \\times(-2)."""
    fixed = {"add": "+", "mul": r"\times", "max": r"\max", "min": r"\min", "square": r"(\cdot)^2", "neg": "-"}
    if node.op in fixed:
        return fixed[node.op]
    c = numeric.decimal_str(node.c)
    if node.op == "add_const":
        return c if node.c < 0 else f"+{c}"
    return rf"\times({c})" if node.c < 0 else rf"\times {c}"


def parse_nodes(raw: Any, where: str = "params.nodes") -> list[Node]:
    """Validate the `nodes` list; errors name the entry (params.nodes[2].args)."""
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_NODES:
        raise BankError(f"{where}: expected a list of 2 to {MAX_NODES} nodes like {{op: add, args: [x, 1]}}")
    nodes: list[Node] = []
    for i, m in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(m, Mapping) or set(m) - {"op", "args", "c"} or "op" not in m or "args" not in m:
            raise BankError(f"{here}: expected a mapping with op, args and (for add_const/mul_const) c")
        op = m["op"]
        if op not in OPERATIONS:
            raise BankError(f"{here}.op: {op!r} is not one of {', '.join(OPERATIONS)}")
        args = m["args"]
        arity = 2 if op in BINARY else 1
        if not isinstance(args, list) or len(args) != arity:
            raise BankError(f"{here}.args: {op} takes {arity} argument(s), got {args!r}")
        for a in args:
            if a != "x" and not (isinstance(a, int) and not isinstance(a, bool) and 1 <= a <= i):
                raise BankError(f"{here}.args: {a!r} is neither x nor the number of an earlier node (1..{i})")
        if arity == 2 and args[0] == args[1]:
            raise BankError(f"{here}.args: the two arguments of {op} must differ, got {args!r}")
        c = None
        if op in ("add_const", "mul_const"):
            try:
                c = numeric.exact(m.get("c"))
            except (TypeError, ValueError, ZeroDivisionError):
                raise BankError(f"{here}.c: {op} needs a number c, got {m.get('c')!r}") from None
        elif "c" in m:
            raise BankError(f"{here}.c: only add_const and mul_const take a constant")
        nodes.append(Node(op, tuple(args), c))
    used = {a for n in nodes for a in n.args}
    for i in range(1, len(nodes)):
        if i not in used:
            raise BankError(f"{where}[{i - 1}]: node ({roman(i)}) feeds no later node; only the last node may be "
                            "the output")
    return nodes


def values(nodes: list[Node], x: Fraction) -> list[Fraction]:
    """Every node's value for input x (exact; a float-free check for sampling)."""
    env: dict[str, Any] = {"x": x}
    out = []
    for i, n in enumerate(nodes, start=1):
        env[key(i)] = evaluate(formula(n), env)
        out.append(env[key(i)])
    return out


def by_depth(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same graph renumbered column by column (stable), so (i), (ii), … read left to right."""
    depth: dict[str | int, int] = {"x": 0}
    for i, n in enumerate(nodes, start=1):
        depth[i] = 1 + max(depth[a] for a in n["args"])
    order = sorted(range(1, len(nodes) + 1), key=lambda i: (depth[i], i))
    new = {old: pos for pos, old in enumerate(order, start=1)}
    return [dict(nodes[old - 1], args=[a if a == "x" else new[a] for a in nodes[old - 1]["args"]]) for old in order]


def ancestors(nodes: list[Node]) -> list[set[int]]:
    """For each node (index from 1), the node numbers it depends on."""
    out: list[set[int]] = [set()]
    for n in nodes:
        out.append(set().union(*({a} | out[a] for a in n.args if a != "x")))
    return out


def problems(params: Mapping[str, Any], rules: Rules = DEFAULT) -> list[str]:
    """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question)."""
    nodes = parse_nodes(params["nodes"])
    x = numeric.exact(params["x"])
    out: list[str] = []
    vals = values(nodes, x)
    if any(abs(v) > MAX_VALUE for v in vals):
        out.append(problem("moderate_values", f"a node value beyond ±{MAX_VALUE}"))
    zeros = sum(v == 0 for v in vals)
    if zeros > MAX_ZEROS:
        out.append(problem("varied_nodes", f"{zeros} nodes have the value 0 (at most {MAX_ZEROS})"))
    if len(set(vals)) < max(len(vals) - MAX_REPEATS, len(vals) / 2):
        out.append(problem("varied_nodes", f"only {len(set(vals))} distinct values among {len(vals)} nodes"))
    env = {"x": x, **{key(i): v for i, v in enumerate(vals, start=1)}}
    if any(n.op in ("max", "min") and env[key(n.args[0])] == env[key(n.args[1])] for n in nodes):
        out.append(problem("well_posed", "max/min inputs tie"))
    anc = ancestors(nodes)
    if not any(n.op in BINARY and all(a != "x" for a in n.args) and n.args[0] not in anc[n.args[1]]
               and n.args[1] not in anc[n.args[0]] for n in nodes):
        out.append(problem("well_posed", "no node joins two parallel branches"))
    out = rules.keep(out)
    if out or not rules.on("well_posed"):  # the checks below evaluate the graph on a grid of x: skip them for a draw already rejected
        return out
    curves = [tuple(GRID)] + [tuple(v) for v in zip(*(values(nodes, g) for g in GRID))]
    if any(len(set(c)) == 1 for c in curves[1:]):
        out.append(problem("well_posed", "a node is constant in x"))
    if len(set(curves)) < len(curves):
        out.append(problem("well_posed", "a node repeats x or another node for every x"))
    return out


# -- the family ----------------------------------------------------------------------------
class GraphForward:
    """See the module docstring."""

    name = "graph-forward"
    summary = ("Computation graph of +, ×, max, min, square, …: fill in every node's value for a given x "
               "(seed 003 Q2a).")
    template = "families/graph-forward.tex.j2"
    default_domain: dict[str, Any] = {
        "nodes": [6, 7],
        "x": {"integers": [-3, 3], "exclude": [0]},
        "operations": Words(list(OPERATIONS), list(OPERATIONS)),
        "add_constants": {"integers": [-3, 3], "exclude": [0]},
        "mul_constants": [-2, 2, 3],
    }
    shared = ("nodes",)  # drawn once per exam
    calculator_free = True  # integer x and constants: every node value is an integer
    no_calculator_domain: dict[str, Any] = {}
    domain_limits = {"nodes": (3, MAX_NODES)}
    constraints = ("moderate_values", "well_posed", "varied_nodes")

    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw graphs until one is a fair question (see `problems`)."""
        def attempt() -> tuple[dict[str, Any] | None, list[str]]:
            params = self._draw(rng, domain)
            if params is None:
                return None, ["a node feeds no later node"]
            return params, problems(params, rules)

        return draw_fair(self.name, attempt, "operations, nodes, x", rules=rules)

    def _draw(self, rng: np.random.Generator, d: Mapping[str, Any]) -> dict[str, Any] | None:
        n = draw(rng, d["nodes"], "domain.nodes")
        if not isinstance(n, int) or not 3 <= n <= MAX_NODES:
            raise BankError(f"domain.nodes: expected whole numbers from 3 to {MAX_NODES}, got {n!r}")
        ops = list(d["operations"])
        unary = [o for o in ops if o in UNARY]
        if not unary or not any(o in BINARY for o in ops):
            raise FamilyError(f"{self.name}: domain.operations needs at least one one-input operation "
                              f"({', '.join(UNARY)}) and one two-input operation ({', '.join(BINARY)})")
        unused: list[int] = []  # nodes no later node reads yet
        nodes: list[dict[str, Any]] = []
        for k in range(1, n + 1):
            op = draw(rng, unary if k == 1 else ops, "domain.operations")
            pool: list[str | int] = ["x", *range(1, k)]
            first: str | int = unused[0] if unused and rng.random() < 0.8 else pool[int(rng.integers(len(pool)))]
            args = [first]
            if op in BINARY:
                rest = [a for a in pool if a != first]
                fresh = [a for a in rest if a in unused]
                args.append(fresh[0] if fresh and rng.random() < 0.6 else rest[int(rng.integers(len(rest)))])
            for a in args:
                if a in unused:
                    unused.remove(a)
            node: dict[str, Any] = {"op": op, "args": args}
            if op == "add_const":
                node["c"] = draw(rng, d["add_constants"], "domain.add_constants")
            elif op == "mul_const":
                node["c"] = draw(rng, d["mul_constants"], "domain.mul_constants")
            nodes.append(node)
            unused.append(k)
        if unused != [n]:
            return None
        return {"x": draw(rng, d["x"], "domain.x"), "nodes": by_depth(nodes)}

    def problems(self, params: Mapping[str, Any], rules: Rules = DEFAULT) -> list[str]:
        """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question)."""
        return problems(params, rules)

    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The question for fixed parameters (sampled, or pinned by a bank or --params)."""
        if not isinstance(params, Mapping) or "x" not in params or "nodes" not in params:
            raise BankError("params: expected a mapping with x and nodes (see `qgen solve graph-forward --json`)")
        unknown = sorted(set(params) - {"x", "nodes"})
        if unknown:
            raise BankError(f"params: unknown key(s) {', '.join(map(str, unknown))}; allowed: x, nodes")
        try:
            x = numeric.exact(params["x"])
        except (TypeError, ValueError, ZeroDivisionError):
            raise BankError(f"params.x: {params['x']!r} is not a number") from None
        nodes = parse_nodes(params["nodes"])
        nt = notation
        t = Trace()
        t.given("x", literal("x"), x)
        for i, node in enumerate(nodes, start=1):
            t.add(key(i), literal(rf"\text{{({roman(i)})}}"), formula(node))
        keys = [key(i) for i in range(1, len(nodes) + 1)]
        heads = [f"({roman(i)})" for i in range(1, len(nodes) + 1)]
        prompt = (f"Perform forward propagation for $x = {numeric.decimal_str(x)}$: fill in the value of every node "
                  "in the table.")
        part = number_part(t, nt, id="forward", prompt=prompt, keys=keys, places=places,
                           section="Forward propagation", points=2, kind="vector")
        table = value_table(heads, [numeric.decimal_str(t[k], places) for k in keys])
        part = replace(part, answer_tex=table)
        stored = {"x": param_number(x), "nodes": [n.to_mapping() for n in nodes]}
        context = {"x": numeric.decimal_str(x), "figure": Deferred(partial(figure, nodes)), "heads": heads, "last": heads[-1],
                   "legend": legend(nodes)}
        return Question(self.name, "Forward propagation on a computation graph", stored, t, nt, [part],
                        self.template, context)


def legend(nodes: list[Node]) -> list[str]:
    """What each operation of this graph does, in the order of OPERATIONS (constants as drawn)."""
    out = []
    for op in OPERATIONS:
        first = next((n for n in nodes if n.op == op), None)
        if first is not None:
            out.append(OP_WORDS[op].replace("{label}", circle_label(first)))
    return out


def value_table(heads: list[str], cells: list[str]) -> str:
    """A one-row table in math mode: the node names as column heads over their values."""
    cols = "|" + "c|" * len(heads)
    head = " & ".join(rf"\text{{{h}}}" for h in heads)
    return rf"\begin{{array}}{{{cols}}}\hline {head} \\ \hline {' & '.join(cells)} \\ \hline\end{{array}}"


def figure(nodes: list[Node]) -> str:
    """The graph as TikZ: x on the left, one circle per node with its operation, (i), (ii), … beside."""
    drawn = [GraphNode("x", "x", kind="input")]
    for i, n in enumerate(nodes, start=1):
        drawn.append(GraphNode(key(i), circle_label(n), tuple(key(a) for a in n.args), tag=f"({roman(i)})"))
    return draw_graph(drawn)


FAMILY = GraphForward()
