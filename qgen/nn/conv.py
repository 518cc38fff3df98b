"""One convolution layer (single channel, single kernel) with an optional pooling step, as a Trace (pure).

The layer is a cross-correlation as deep-learning libraries define it (torch.nn.functional.conv1d
/ conv2d: the kernel is not flipped), with stride s and zero padding p on every side, then
optionally max or average pooling (no padding, floor mode). The backward pass starts from a given
upstream gradient: ∂L/∂P of the pooled output when there is pooling, else ∂L/∂Y of the conv output.

The canonical parameters (`params.conv`; 1-D: flat lists, 2-D: lists of rows):

    dims: 2
    input: [[1, 0, -2, 3], [2, 1, 0, -1], [0, 3, 1, 1], [-2, 1, 2, 0]]   # X, H×W
    kernel: [[1, -1], [0, 2]]                                          # K, kh×kw
    bias: 0                                                            # b (default 0)
    stride: 1                                                          # s (default 1)
    padding: 0                                                         # p (default 0)
    pool: {kind: max, size: 2, stride: 2}                              # optional; stride defaults to size
    upstream: [[1, -1]]                                                # ∂L/∂P (pool) or ∂L/∂Y (no pool)

Trace keys count from 1: X[i,j], K[a,b], b, Y[i,j], P[i,j], dL_dP[i,j], dL_dY[i,j], dL_dK[a,b],
dL_db, dL_dX[i,j] (1-D: X[j], K[b], …). Padding cells are 0 and are left out of the sums.
Max-pooling routes a window's gradient to its largest cell; on a tie, to the first largest cell in
row-major order (what torch's CPU kernel does); the `well_posed` constraint keeps ties out.

>>> c = parse({"dims": 1, "input": [1, 2, 3], "kernel": [1, -1], "upstream": [1, 1]})
>>> t = build(c); [t[f"Y[{j}]"] for j in (1, 2)], t["dL_dX[2]"]
([Fraction(-1, 1), Fraction(-1, 1)], Fraction(0, 1))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from qgen import numeric
from qgen.errors import BankError
from qgen.expr import Const, Div, Expr, Fn, Prod, Ref, Sum
from qgen.nn.network import json_number, param_number
from qgen.notation import literal
from qgen.trace import Trace

Grid = tuple[tuple[Fraction, ...], ...]
POOLS = ("max", "average")
KEYS = ("dims", "input", "kernel", "bias", "stride", "padding", "pool", "upstream")
MAX_SIDE = 12  # a grid side beyond this is not an exam question


@dataclass(frozen=True)
class Pool:
    """A pooling step: kind (max | average), window size and stride (both along every axis)."""

    kind: str
    size: int
    stride: int


@dataclass(frozen=True)
class Conv:
    """A validated instance; 1-D grids are held as one row (H = 1, no vertical stride or padding)."""

    dims: int
    x: Grid
    k: Grid
    bias: Fraction
    stride: int
    padding: int
    pool: Pool | None
    upstream: Grid

    @property
    def steps(self) -> tuple[int, int]:
        """The stride along rows and columns."""
        return (self.stride if self.dims == 2 else 1), self.stride

    @property
    def pads(self) -> tuple[int, int]:
        """The zero padding along rows and columns."""
        return (self.padding if self.dims == 2 else 0), self.padding

    @property
    def out_shape(self) -> tuple[int, int]:
        """(rows, columns) of Y: ⌊(n + 2p − k)/s⌋ + 1 along each axis."""
        (sh, sw), (ph, pw) = self.steps, self.pads
        return ((len(self.x) + 2 * ph - len(self.k)) // sh + 1, (len(self.x[0]) + 2 * pw - len(self.k[0])) // sw + 1)

    @property
    def pooled_shape(self) -> tuple[int, int] | None:
        """(rows, columns) of P, or None without pooling."""
        if self.pool is None:
            return None
        oh, ow = self.out_shape
        size, step = self.pool.size, self.pool.stride
        return ((oh - size) // step + 1 if self.dims == 2 else 1, (ow - size) // step + 1)

    def windows(self) -> list[tuple[tuple[int, int], list[tuple[int, int]]]]:
        """Every pooling window: its (row, column) in P (from 0) and its cells of Y, row-major."""
        assert self.pool is not None and self.pooled_shape is not None
        size, step = self.pool.size, self.pool.stride
        rows = range(size) if self.dims == 2 else range(1)
        out = []
        for pi in range(self.pooled_shape[0]):
            for pj in range(self.pooled_shape[1]):
                top = pi * step if self.dims == 2 else 0
                out.append(((pi, pj), [(top + u, pj * step + v) for u in rows for v in range(size)]))
        return out

    def key(self, name: str, i: int, j: int) -> str:
        """The Trace key of cell (i, j) (from 0) of grid `name`: X[2,3], or X[3] in 1-D."""
        return f"{name}[{j + 1}]" if self.dims == 1 else f"{name}[{i + 1},{j + 1}]"

    def index_tex(self, i: int, j: int) -> str:
        """The subscript of cell (i, j): `2,3`, or `3` in 1-D."""
        return f"{j + 1}" if self.dims == 1 else f"{i + 1},{j + 1}"

    def keys(self, name: str, shape: tuple[int, int]) -> list[str]:
        """The keys of grid `name` of `shape`, row-major."""
        return [self.key(name, i, j) for i in range(shape[0]) for j in range(shape[1])]

    def to_mapping(self) -> dict[str, Any]:
        """The canonical `conv` block (exact numbers as they round-trip)."""
        out: dict[str, Any] = {"dims": self.dims, "input": plain(self.x, self.dims), "kernel": plain(self.k, self.dims),
                               "bias": param_number(self.bias), "stride": self.stride, "padding": self.padding}
        if self.pool is not None:
            out["pool"] = {"kind": self.pool.kind, "size": self.pool.size, "stride": self.pool.stride}
        out["upstream"] = plain(self.upstream, self.dims)
        return out


def plain(grid: Grid, dims: int, number=param_number) -> Any:
    """A grid as JSON: a list of rows, or one flat list in 1-D."""
    rows = [[number(v) for v in row] for row in grid]
    return rows[0] if dims == 1 else rows


def out_size(n: int, k: int, s: int, p: int) -> int:
    """⌊(n + 2p − k)/s⌋ + 1, the output length of a convolution along one axis.

    >>> out_size(5, 3, 2, 1), out_size(4, 2, 1, 0)
    (3, 3)
    """
    return (n + 2 * p - k) // s + 1


# -- validation ------------------------------------------------------------------------------
def _count(raw: Any, where: str, low: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < low:
        raise BankError(f"{where}: expected a whole number ≥ {low}, got {raw!r}")
    return raw


def _number(raw: Any, where: str) -> Fraction:
    if isinstance(raw, bool):
        raise BankError(f"{where}: expected a number, got {raw!r}")
    try:
        return numeric.exact(raw)
    except (TypeError, ValueError, ZeroDivisionError):
        raise BankError(f"{where}: expected a number (2, -0.5 or '1/2'), got {raw!r}") from None


def _grid(raw: Any, dims: int, where: str) -> Grid:
    """A 1-D list or a 2-D list of equal rows, as rows of Fractions."""
    if dims == 1:
        if not isinstance(raw, list) or not raw or any(isinstance(v, list) for v in raw):
            raise BankError(f"{where}: expected a list of numbers for dims 1, e.g. [1, -2, 3]")
        rows = [raw]
    else:
        if (not isinstance(raw, list) or not raw or not all(isinstance(r, list) and r for r in raw)
                or len({len(r) for r in raw}) != 1):
            raise BankError(f"{where}: expected a list of rows of equal length for dims 2, e.g. [[1, 0], [2, -1]]")
        rows = raw
    if len(rows) > MAX_SIDE or len(rows[0]) > MAX_SIDE:
        raise BankError(f"{where}: at most {MAX_SIDE} rows and columns")
    return tuple(tuple(_number(v, f"{where}[{i}]" if dims == 1 else f"{where}[{r}][{i}]") for i, v in enumerate(row))
                 for r, row in enumerate(rows))


def parse(raw: Any, where: str = "params.conv") -> Conv:
    """Validate the canonical block; errors name the key and what to do."""
    if not isinstance(raw, Mapping):
        raise BankError(f"{where}: expected a mapping with dims, input, kernel, upstream (see `qgen solve convolution "
                        "--json`)")
    unknown = sorted(set(map(str, raw)) - set(KEYS))
    if unknown:
        raise BankError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(KEYS)}")
    missing = [k for k in ("input", "kernel", "upstream") if k not in raw]
    if missing:
        raise BankError(f"{where}: missing {', '.join(missing)}")
    dims = raw.get("dims", 2)
    if dims not in (1, 2) or isinstance(dims, bool):
        raise BankError(f"{where}.dims: expected 1 or 2, got {dims!r}")
    x = _grid(raw["input"], dims, f"{where}.input")
    k = _grid(raw["kernel"], dims, f"{where}.kernel")
    stride = _count(raw.get("stride", 1), f"{where}.stride", 1)
    padding = _count(raw.get("padding", 0), f"{where}.padding", 0)
    bias = _number(raw.get("bias", 0), f"{where}.bias")
    pool = None
    if raw.get("pool") is not None:
        spec = raw["pool"]
        if not isinstance(spec, Mapping) or set(spec) - {"kind", "size", "stride"} or "kind" not in spec:
            raise BankError(f"{where}.pool: expected {{kind: max|average, size: k, stride: k}} (or leave pool out)")
        if spec["kind"] not in POOLS:
            raise BankError(f"{where}.pool.kind: expected max or average, got {spec['kind']!r}")
        size = _count(spec.get("size", 2), f"{where}.pool.size", 1)
        pool = Pool(spec["kind"], size, _count(spec.get("stride", size), f"{where}.pool.stride", 1))
    conv = Conv(dims, x, k, bias, stride, padding, pool, ((Fraction(0),),))
    if padding >= min(len(k), len(k[0])) if dims == 2 else padding >= len(k[0]):
        raise BankError(f"{where}.padding: {padding} is not smaller than the kernel, so an output cell would see "
                        "padding only; use a smaller padding")
    oh, ow = conv.out_shape
    if oh < 1 or ow < 1:
        raise BankError(f"{where}.kernel: the kernel ({len(k)}×{len(k[0])}) is larger than the padded input "
                        f"(output size ⌊(n + 2p − k)/s⌋ + 1 = {min(oh, ow)} < 1); use a smaller kernel or more padding")
    if pool is not None and (ow < pool.size or (dims == 2 and oh < pool.size)):
        raise BankError(f"{where}.pool.size: the conv output is {oh}×{ow}, smaller than the pooling window "
                        f"{pool.size}; use a smaller window or a larger input")
    upstream = _grid(raw["upstream"], dims, f"{where}.upstream")
    want = conv.pooled_shape or conv.out_shape
    got = (len(upstream), len(upstream[0]))
    if got != want:
        what = "∂L/∂P of the pooled output" if pool else "∂L/∂Y of the conv output"
        shape = f"{want[1]} numbers" if dims == 1 else f"{want[0]}×{want[1]}"
        raise BankError(f"{where}.upstream: expected {what}, {shape}, got {got[1] if dims == 1 else got}")
    return Conv(dims, x, k, bias, stride, padding, pool, upstream)


# -- the Trace -------------------------------------------------------------------------------
def _sum(terms: Sequence[Expr]) -> Expr:
    return Sum(tuple(terms)) if len(terms) > 1 else terms[0] if terms else Const(Fraction(0))


def grad_sym(of: str, index: str) -> str:
    r"""∂L/∂Y_{1,2} as LaTeX.

    >>> grad_sym("Y", "1,2")
    '\\frac{\\partial L}{\\partial Y_{1,2}}'
    """
    return rf"\frac{{\partial L}}{{\partial {of}_{{{index}}}}}"


def argmax(values: Sequence[Any]) -> int:
    """The index of the first largest value (torch's tie rule).

    >>> argmax([1, 3, 3, 2])
    1
    """
    best = 0
    for n, v in enumerate(values):
        if v > values[best]:
            best = n
    return best


def build(c: Conv) -> Trace:
    """The solved instance: forward sums, pooling, routed gradient and the three gradients."""
    t = Trace()
    H, W = len(c.x), len(c.x[0])
    kh, kw = len(c.k), len(c.k[0])
    (sh, sw), (ph, pw) = c.steps, c.pads
    oh, ow = c.out_shape
    for i in range(H):
        for j in range(W):
            t.given(c.key("X", i, j), literal(f"X_{{{c.index_tex(i, j)}}}"), c.x[i][j])
    for a in range(kh):
        for b in range(kw):
            t.given(c.key("K", a, b), literal(f"K_{{{c.index_tex(a, b)}}}"), c.k[a][b])
    t.given("b", literal("b"), c.bias)

    def cells(i: int, j: int) -> list[tuple[int, int, int, int]]:
        """(a, b, m, n): kernel cell (a, b) meets input cell (m, n) in output cell (i, j); padding left out."""
        return [(a, b, i * sh + a - ph, j * sw + b - pw) for a in range(kh) for b in range(kw)
                if 0 <= i * sh + a - ph < H and 0 <= j * sw + b - pw < W]

    for i in range(oh):
        for j in range(ow):
            terms: list[Expr] = [Prod((Ref(c.key("K", a, b)), Ref(c.key("X", m, n)))) for a, b, m, n in cells(i, j)]
            if c.bias != 0:
                terms.append(Ref("b"))
            t.add(c.key("Y", i, j), literal(f"Y_{{{c.index_tex(i, j)}}}"), _sum(terms))
    zero: set[str] = set()  # routed gradients that are 0 by the pooling's structure
    if c.pool is None:
        for i in range(oh):
            for j in range(ow):
                t.given(c.key("dL_dY", i, j), literal(grad_sym("Y", c.index_tex(i, j))), c.upstream[i][j])
    else:
        routes: dict[tuple[int, int], list[Expr]] = {}
        for (pi, pj), window in c.windows():
            refs = tuple(Ref(c.key("Y", u, v)) for u, v in window)
            pooled = (Fn("max", refs) if c.pool.kind == "max"
                      else Div(Sum(refs), Const(Fraction(len(window)))))
            t.add(c.key("P", pi, pj), literal(f"P_{{{c.index_tex(pi, pj)}}}"), pooled)
            t.given(c.key("dL_dP", pi, pj), literal(grad_sym("P", c.index_tex(pi, pj))), c.upstream[pi][pj])
            up = Ref(c.key("dL_dP", pi, pj))
            if c.pool.kind == "max":
                best = window[argmax([t[c.key("Y", u, v)] for u, v in window])]
                routes.setdefault(best, []).append(up)
            else:
                for cell in window:
                    routes.setdefault(cell, []).append(Prod((Const(Fraction(1, len(window)), True), up)))
        for i in range(oh):
            for j in range(ow):
                key = c.key("dL_dY", i, j)
                if (i, j) not in routes:
                    zero.add(key)
                t.add(key, literal(grad_sym("Y", c.index_tex(i, j))), _sum(routes.get((i, j), [])), "delta")
    live = [(i, j) for i in range(oh) for j in range(ow) if c.key("dL_dY", i, j) not in zero]
    for a in range(kh):
        for b in range(kw):
            terms = [Prod((Ref(c.key("dL_dY", i, j)), Ref(c.key("X", m, n))))
                     for i, j in live for a2, b2, m, n in cells(i, j) if (a2, b2) == (a, b)]
            t.add(c.key("dL_dK", a, b), literal(grad_sym("K", c.index_tex(a, b))), _sum(terms), "grad")
    t.add("dL_db", literal(r"\frac{\partial L}{\partial b}"), _sum([Ref(c.key("dL_dY", i, j)) for i, j in live]), "grad")
    into: dict[tuple[int, int], list[Expr]] = {}
    for i, j in live:
        for a, b, m, n in cells(i, j):
            into.setdefault((m, n), []).append(Prod((Ref(c.key("dL_dY", i, j)), Ref(c.key("K", a, b)))))
    for m in range(H):
        for n in range(W):
            t.add(c.key("dL_dX", m, n), literal(grad_sym("X", c.index_tex(m, n))), _sum(into.get((m, n), [])), "grad")
    return t


def grid_values(t: Trace, c: Conv, name: str, shape: tuple[int, int]) -> list[list[Any]]:
    """The values of grid `name` as rows of Trace values."""
    return [[t[c.key(name, i, j)] for j in range(shape[1])] for i in range(shape[0])]


def solution(t: Trace, c: Conv) -> dict[str, Any]:
    """The `solution` block of `qgen solve convolution --json` (JSON numbers; 1-D grids flat)."""
    def grid(name: str, shape: tuple[int, int]) -> Any:
        return plain(tuple(tuple(row) for row in grid_values(t, c, name, shape)), c.dims, json_number)

    oh, ow = c.out_shape
    out: dict[str, Any] = {"output_shape": [ow] if c.dims == 1 else [oh, ow], "output": grid("Y", c.out_shape)}
    if c.pool is not None:
        out["pooled"] = grid("P", c.pooled_shape)
        out["grad_output"] = grid("dL_dY", c.out_shape)
    out["grad_kernel"] = grid("dL_dK", (len(c.k), len(c.k[0])))
    out["grad_bias"] = json_number(t["dL_db"])
    out["grad_input"] = grid("dL_dX", (len(c.x), len(c.x[0])))
    return out
