"""Family `convolution`: a 1-D or 2-D convolution layer with stride, zero padding and pooling, forward and back.

One input channel, one kernel, cross-correlation as deep-learning libraries define it (no
kernel flip), then optionally max or average pooling. The student gives the output shape, the
output, the pooled output, the upstream gradient routed back through the pooling, and the
gradients with respect to the kernel, the bias and the (unpadded) input; a hand-graded part asks
why the kernel gradient is a cross-correlation. Every cell is a Trace quantity (qgen.nn.conv), so
the key's worked lines show each sum, and a student's wrong output carries forward into pooling.

Parameters (the pin form, also what `qgen solve convolution --json` prints; see qgen.nn.conv):
    conv: {dims: 2, input: [[...]], kernel: [[...]], bias: 0, stride: 1, padding: 1,
           pool: {kind: max, size: 2, stride: 2}, upstream: [[...]]}
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, ClassVar

import numpy as np

from qgen import numeric
from qgen.errors import BankError, FamilyError
from qgen.families.base import Deferred, Part, Question, matrix_tex, rubric
from qgen.families.domain import Words, choices, draw, draw_fair
from qgen.families.rules import DEFAULT, Rules, problem
from qgen.nn import conv as cv
from qgen.notation import Notation
from qgen.trace import Trace

MAX_VALUE = 30  # moderate_values: every computed value within ±30
POOL_WORDS = {"max": "max", "average": "average"}


def _feasible(n: int, k: int, s: int, p: int, pool: str, size: int) -> bool:
    """Can an n-long input give an output (and a pooled output) with these settings?"""
    out = cv.out_size(n, k, s, p)
    return p < k and out >= 1 and (pool == "none" or out >= size)


def _last(n: int, k: int, s: int, p: int, pool: str, size: int) -> int:
    """The length of the layer's last output along an n-long axis: the pooled one, or the conv's."""
    out = cv.out_size(n, k, s, p)
    return out if pool == "none" else (out - size) // size + 1


def problems(params: Mapping[str, Any], rules: Rules = DEFAULT) -> list[str]:
    """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question)."""
    c = cv.parse(params["conv"])
    t = cv.build(c)
    out: list[str] = []
    big = [q.key for q in t if q.expr is not None and abs(q.value) > MAX_VALUE]
    if big:
        out.append(problem("moderate_values", f"{big[0]} = {numeric.decimal_str(t[big[0]])} is beyond ±{MAX_VALUE}"))
    y = cv.grid_values(t, c, "Y", c.out_shape)
    flat = [v for row in y for v in row]
    if c.dims == 2 and (any(all(v == 0 for v in row) for row in y) or any(all(v == 0 for v in col) for col in zip(*y))):
        out.append(problem("varied_outputs", "a row or column of the output Y is all 0"))
    if sum(v == 0 for v in flat) * 3 > len(flat):
        out.append(problem("varied_outputs", "more than a third of the output Y is 0"))
    if len(set(flat)) * 2 < len(flat):
        out.append(problem("varied_outputs", f"only {len(set(flat))} distinct values among {len(flat)} outputs"))
    if c.pool is not None and c.pool.kind == "max":
        for (pi, pj), window in c.windows():
            values = [t[c.key("Y", u, v)] for u, v in window]
            if values.count(max(values)) > 1:
                out.append(problem("well_posed", f"the pooling window of {c.key('P', pi, pj)} has a tie for its "
                                                 "maximum (the gradient's route would be ambiguous)"))
                break
    kernel = [v for row in c.k for v in row]
    if sum(v == 0 for v in kernel) * 4 > len(kernel):
        out.append(problem("well_posed", "more than a quarter of the kernel is 0"))
    dk = [t[k] for k in c.keys("dL_dK", (len(c.k), len(c.k[0])))]
    if sum(v == 0 for v in dk) * 2 > len(dk):
        out.append(problem("nonzero_derivatives", "more than half of ∂L/∂K is 0"))
    if t["dL_db"] == 0:
        out.append(problem("nonzero_derivatives", "∂L/∂b is 0"))
    if all(t[k] == 0 for k in c.keys("dL_dX", (len(c.x), len(c.x[0])))):
        out.append(problem("nonzero_derivatives", "∂L/∂X is all 0"))
    return rules.keep(out)


KERNEL_TRIES = 20


def _kernel(rng: np.random.Generator, d: Mapping[str, Any], rows: int, cols: int, grid: Any) -> Any:
    """A kernel whose work is like every other version's: where the domain has entries of both kinds, between
    a quarter and three quarters of them (at least one, not all) are beyond ±1, the ones that cost a
    multiplication by hand (a kernel of ±1 alone is half the work of one of ±2)."""
    pool = [abs(numeric.exact(v)) for v in choices(d["kernel"])]
    if not any(v > 1 for v in pool) or not any(0 < v <= 1 for v in pool) or rows * cols < 2:
        return grid("kernel", rows, cols)
    n = rows * cols
    low, high = max(1, -(-n // 4)), min(n - 1, 3 * n // 4)
    for _ in range(KERNEL_TRIES):
        kernel = grid("kernel", rows, cols)
        flat = kernel if rows == 1 and not isinstance(kernel[0], list) else [v for row in kernel for v in row]
        if low <= sum(abs(numeric.exact(v)) > 1 for v in flat) <= high:
            break
    return kernel


class Convolution:
    """See the module docstring."""

    name = "convolution"
    summary = ("Convolution layer (1-D/2-D cross-correlation, stride, zero padding) with max/average pooling: output "
               "shape and values, pooled values, gradients w.r.t. kernel, bias and input from an upstream gradient.")
    template = "families/convolution.tex.j2"
    default_domain: ClassVar[dict[str, Any]] = {
        "dims": [2],
        "length": {"integers": [5, 8]},  # 1-D: input length
        "size": {"integers": [4, 5]},  # 2-D: the input is size × size (6 × 6 is 25-36 sums: too long by hand)
        "kernel_size": [2, 3],
        "stride": [1, 2],
        "padding": [0, 1],
        "pool": Words(["max", "average"], ["max", "average", "none"]),
        "pool_size": [2],  # window and stride of the pooling
        "input": {"integers": [-2, 3], "exclude": [0]},
        "kernel": {"integers": [-2, 2], "exclude": [0]},  # no 0 and some ±2: versions stay alike in work
        "upstream": {"integers": [-2, 2], "exclude": [0]},  # no 0: every route back is work
        "bias": [0],
    }
    shared = ("dims", "length", "size", "kernel_size", "stride", "padding", "pool", "pool_size")
    shared_sets: ClassVar[dict[str, str]] = {"length": "shared_length", "size": "shared_size"}  # a size that fits the shared settings
    calculator_free = True  # integers, and quarters or halves from a 2-wide average pooling
    no_calculator_domain: ClassVar[dict[str, Any]] = {}
    domain_limits: ClassVar[dict[str, tuple[int, int]]] = {"dims": (1, 2), "length": (2, cv.MAX_SIDE), "size": (2, cv.MAX_SIDE), "kernel_size": (1, 6),
                     "stride": (1, 4), "padding": (0, 3), "pool_size": (1, 4)}
    constraints = ("moderate_values", "varied_outputs", "well_posed", "nonzero_derivatives")

    # -- sampling ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw grids until one is a fair question (see `problems`)."""
        def attempt() -> tuple[dict[str, Any] | None, list[str]]:
            params = self._draw(rng, domain)
            if params is None:
                return None, ["shape: the drawn sizes give no output or one smaller than the pooling window"]
            return params, problems(params, rules)

        return draw_fair(self.name, attempt, "input, kernel, upstream ranges; size", rules=rules)

    def _settings(self, rng: np.random.Generator, d: Mapping[str, Any]) -> tuple[int, int, int, int, str, int]:
        """dims, kernel size, stride, padding, pool kind and pool size, drawn and checked."""
        dims = draw(rng, d["dims"], "domain.dims")
        if dims not in (1, 2) or isinstance(dims, bool):
            raise BankError(f"domain.dims: expected 1 or 2, got {dims!r}")
        k, s, p, size = (draw(rng, d[key], f"domain.{key}") for key in ("kernel_size", "stride", "padding", "pool_size"))
        return dims, k, s, p, draw(rng, d["pool"], "domain.pool"), size

    def _shared(self, rng: np.random.Generator, d: Mapping[str, Any], key: str) -> list[int]:
        fixed = {k: d[k] for k in ("dims", "kernel_size", "stride", "padding", "pool", "pool_size")}
        settings = [(k, s, p, pool, size) for k in fixed["kernel_size"] for s in fixed["stride"]
                    for p in fixed["padding"] for pool in fixed["pool"] for size in fixed["pool_size"]]
        fits = [n for n in choices(d[key]) if any(_feasible(n, *st) for st in settings)]
        if not fits:
            raise FamilyError(f"{self.name}: no domain.{key} fits domain.kernel_size, stride, padding and pool_size "
                              "(the output must be at least the pooling window); use a larger input or smaller kernel")
        every = [n for n in fits if all(_feasible(n, *st) for st in settings)] or fits
        # preferably one whose (pooled) output has two cells or more along each axis: an upstream worth routing
        roomy = [n for n in every if all(_last(n, *st) >= 2 for st in settings)] or every
        return [roomy[int(rng.integers(len(roomy)))]]

    def shared_length(self, rng: np.random.Generator, d: Mapping[str, Any]) -> list[int]:
        """The 1-D input length every version uses: one that fits the shared kernel, stride, padding, pool."""
        return self._shared(rng, d, "length")

    def shared_size(self, rng: np.random.Generator, d: Mapping[str, Any]) -> list[int]:
        """The 2-D input size every version uses: one that fits the shared kernel, stride, padding, pool."""
        return self._shared(rng, d, "size")

    def _draw(self, rng: np.random.Generator, d: Mapping[str, Any]) -> dict[str, Any] | None:
        dims, k, s, p, pool, size = self._settings(rng, d)
        n = draw(rng, d["length" if dims == 1 else "size"], f"domain.{'length' if dims == 1 else 'size'}")
        if not _feasible(n, k, s, p, pool, size):
            return None
        rows = 1 if dims == 1 else n
        krows = 1 if dims == 1 else k

        def grid(key: str, r: int, cols: int) -> Any:
            flat = draw(rng, d[key], f"domain.{key}", r * cols)
            out = [flat[i * cols:(i + 1) * cols] for i in range(r)]
            return out[0] if dims == 1 else out

        spec: dict[str, Any] = {"dims": dims, "input": grid("input", rows, n), "kernel": _kernel(rng, d, krows, k, grid),
                                "bias": draw(rng, d["bias"], "domain.bias"), "stride": s, "padding": p}
        if pool != "none":
            spec["pool"] = {"kind": pool, "size": size, "stride": size}
        oh = cv.out_size(rows, krows, s if dims == 2 else 1, p if dims == 2 else 0)
        ow = cv.out_size(n, k, s, p)
        if pool != "none":
            oh = (oh - size) // size + 1 if dims == 2 else 1
            ow = (ow - size) // size + 1
        spec["upstream"] = grid("upstream", oh, ow)
        return {"conv": spec}

    def problems(self, params: Mapping[str, Any], rules: Rules = DEFAULT) -> list[str]:
        """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question)."""
        return problems(params, rules)

    # -- building ------------------------------------------------------------------------
    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The question for fixed parameters (sampled, or pinned by a bank or --params)."""
        if not isinstance(params, Mapping) or "conv" not in params:
            raise BankError("params: expected a mapping with conv (see `qgen solve convolution --json`)")
        unknown = sorted(map(str, set(params) - {"conv"}))
        if unknown:
            raise BankError(f"params: unknown key(s) {', '.join(unknown)}; allowed: conv")
        c = cv.parse(params["conv"])
        t = cv.build(c)
        parts = _parts(c, t, notation, places)
        return Question(self.name, "A convolution layer: forward and backward", {"conv": c.to_mapping()}, t, notation,
                        parts, self.template, _statement(c, places), cv.solution(t, c))


# -- parts -------------------------------------------------------------------------------------
FWD, BWD, WHY = "Forward pass", "Backward pass", "Concepts"


def _grid_part(c: cv.Conv, t: Trace, nt: Notation, places: int, *, id: str, prompt: str, name: str,
               shape: tuple[int, int], section: str, points: float, zeros: str = "") -> Part:
    """A part answered by a whole grid: a matrix in 2-D, a vector (printed as a row) in 1-D.

    `zeros`: why the entries that are 0 by the layer's structure are 0; their worked lines are left out for it.
    """
    keys = c.keys(name, shape)
    rows = cv.grid_values(t, c, name, shape)
    worked = [t.explain(k, nt, places) for k in keys if not (zeros and t.quantity(k).expr == cv.Const(0))]
    if zeros and len(worked) < len(keys):
        worked.append(rf"\text{{every other entry is }} 0 \text{{ ({zeros})}}")
    if c.dims == 1:
        answer: Any = [numeric.to_float(v) for v in rows[0]]
        kind = "vector"
    else:
        answer = [[numeric.to_float(v) for v in row] for row in rows]
        kind = "matrix"
    return Part(id=id, prompt=prompt, kind=kind, points=points, answer=answer, answer_tex=matrix_tex(rows, places),
                section=section, keys=tuple(keys), places=places, worked=tuple(worked),
                box_cm=1.4 + 0.8 * shape[0], labels=tuple(t.symbol(k, nt) for k in keys))


def _shape_part(c: cv.Conv) -> Part:
    """The output shape: rows × columns in 2-D, the length in 1-D, with ⌊(n + 2p − k)/s⌋ + 1 worked."""
    oh, ow = c.out_shape
    (sh, sw), (ph, pw) = c.steps, c.pads

    def line(what: str, n: int, k: int, s: int, p: int, out: int) -> str:
        return (rf"\text{{{what}: }} \left\lfloor \frac{{n + 2p - k}}{{s}} \right\rfloor + 1 = "
                rf"\left\lfloor \frac{{{n} + 2 \cdot {p} - {k}}}{{{s}}} \right\rfloor + 1 = {out}")

    def side(n: int, k: int, s: int, p: int) -> int:
        return (n + 2 * p - k) // s + 1

    def slips(answer) -> tuple[tuple[str, Any], ...]:  # the shapes of the classic slips, where they differ
        out = []
        for name, (s1, s2, p1, p2) in (("padding left out", (sh, sw, 0, 0)), ("stride ignored", (1, 1, ph, pw))):
            wrong = [side(len(c.x), len(c.k), s1, p1), side(len(c.x[0]), len(c.k[0]), s2, p2)]
            wrong_answer = wrong[1] if c.dims == 1 else wrong
            if wrong_answer != answer and all(w >= 1 for w in wrong):
                out.append((name, wrong_answer))
        return tuple(out)

    cols = line("columns" if c.dims == 2 else "length", len(c.x[0]), len(c.k[0]), sw, pw, ow)
    if c.dims == 1:
        return Part(id="shape", prompt="How many entries does the output $Y$ of the convolution have?",
                    kind="integer", points=1, answer=ow, answer_tex=str(ow), section=FWD, worked=(cols,), box_cm=1.2,
                    slips=slips(ow))
    rows = line("rows", len(c.x), len(c.k), sh, ph, oh)
    return Part(id="shape", prompt="What is the shape (rows $\\times$ columns) of the output $Y$ of the convolution?",
                kind="shape", points=1, answer=[oh, ow], answer_tex=rf"{oh} \times {ow}", section=FWD,
                worked=(rows, cols), box_cm=1.2, labels=("Y",), slips=slips([oh, ow]))


def _parts(c: cv.Conv, t: Trace, nt: Notation, places: int) -> list[Part]:
    """Every part, in the order the exam asks them."""
    grid = partial(_grid_part, c, t, nt, places)
    kshape, xshape = (len(c.k), len(c.k[0])), (len(c.x), len(c.x[0]))
    bias = " (the bias included)" if c.bias != 0 else ""
    parts = [_shape_part(c),
             grid(id="output", prompt=f"Compute the output $Y$ of the convolution{bias}: every entry.", name="Y",
                  shape=c.out_shape, section=FWD, points=3)]
    if c.pool is not None:
        kind = POOL_WORDS[c.pool.kind]
        parts.append(grid(id="pooled", prompt=f"Apply the {kind} pooling to $Y$: what is the pooled output $P$?",
                          name="P", shape=c.pooled_shape, section=FWD, points=2))
        parts.append(grid(id="grad_output", prompt=r"Route the given upstream gradient $\partial L/\partial P$ back "
                          r"through the pooling: what is $\partial L/\partial Y$ (one entry per entry of $Y$)?",
                          name="dL_dY", shape=c.out_shape, section=BWD, points=2,
                          zeros="not the largest of its window" if c.pool.kind == "max" else "in no window"))
    parts.append(grid(id="grad_kernel", prompt=r"What is the gradient of the loss with respect to the kernel, "
                      r"$\partial L/\partial K$?", name="dL_dK", shape=kshape, section=BWD, points=3))
    parts.append(Part(id="grad_bias", prompt=r"What is $\partial L/\partial b$, the gradient with respect to the bias?",
                      kind="number", points=1, answer=numeric.to_float(t["dL_db"]),
                      answer_tex=numeric.decimal_str(t["dL_db"], places), section=BWD, keys=("dL_db",), places=places,
                      worked=(t.explain("dL_db", nt, places),), box_cm=1.4, labels=(t.symbol("dL_db", nt),)))
    parts.append(grid(id="grad_input", prompt=r"What is the gradient with respect to the input, "
                      r"$\partial L/\partial X$ (one entry per entry of the unpadded input $X$)?", name="dL_dX",
                      shape=xshape, section=BWD, points=3, zeros="no output with a gradient reads it"))
    parts.append(_why_part(c))
    return parts


def _why_part(c: cv.Conv) -> Part:
    """The hand-graded part: why ∂L/∂K is a cross-correlation of the input with the upstream gradient."""
    idx = "j" if c.dims == 1 else "i,j"
    off = "(j-1)s+b" if c.dims == 1 else "(i-1)s+a,\\,(j-1)s+b"
    kidx = "b" if c.dims == 1 else "a,b"
    prompt = (r"Explain why the kernel gradient $\partial L/\partial K$ is itself a cross-correlation: of the (padded) "
              r"input with the gradient $\partial L/\partial Y$.")
    model = (rf"Each weight $K_{{{kidx}}}$ is used in every output: $Y_{{{idx}}}$ contains the term "
             rf"$K_{{{kidx}}}\,\tilde X_{{{off}}}$, where $\tilde X$ is the zero-padded input. By the chain rule "
             rf"$\partial L/\partial K_{{{kidx}}} = \sum_{{{idx}}} \partial L/\partial Y_{{{idx}}} \cdot "
             rf"\tilde X_{{{off}}}$: the grid $\partial L/\partial Y$ slides over $\tilde X$ (its entries $s$ apart) "
             r"and the products are summed, the same sliding-window sum as the forward pass with "
             r"$\partial L/\partial Y$ in place of the kernel and no flip. So it is a cross-correlation of $\tilde X$ "
             r"with $\partial L/\partial Y$ (dilated by the stride).")
    items = rubric((1, r"the chain rule over every output that uses $K_{" + kidx + r"}$, with the input cell at "
                       r"offset $(" + kidx + r")$ from the window's corner"),
                   (1, (r"the resulting sum of upstream gradient times shifted input is a sliding-window sum without "
                        r"a flip (a cross-correlation), the stride spreading the gradient's entries apart")))
    return Part(id="why", prompt=prompt, kind="text", points=2, answer="", answer_tex="", section=WHY, box_cm=4,
                model=model, rubric=items)


# -- the statement and the figure ------------------------------------------------------------------
def _statement(c: cv.Conv, places: int) -> dict[str, Any]:
    """What the template needs (all LaTeX)."""
    idx = "j" if c.dims == 1 else "i,j"
    kidx = "b" if c.dims == 1 else "a,b"
    off = "(j-1)s+b" if c.dims == 1 else "(i-1)s+a,\\,(j-1)s+b"
    bias = " + b" if c.bias != 0 else ""
    pool = None
    if c.pool is not None:
        window = f"{c.pool.size}" if c.dims == 1 else rf"{c.pool.size} \times {c.pool.size}"
        ph, pw = c.pooled_shape
        pool = {"kind": POOL_WORDS[c.pool.kind], "window": window, "stride": c.pool.stride,
                "shape": f"{pw}" if c.dims == 1 else rf"{ph} \times {pw}"}
    return {
        "dims": c.dims, "d": f"{c.dims}-D",
        "formula": rf"Y_{{{idx}}} = \sum_{{{kidx}}} K_{{{kidx}}}\, \tilde X_{{{off}}}{bias}",
        "input": matrix_tex(c.x, places), "kernel": matrix_tex(c.k, places), "upstream": matrix_tex(c.upstream, places),
        "bias": numeric.decimal_str(c.bias, places), "has_bias": c.bias != 0, "stride": c.stride,
        "padding": c.padding, "pool": pool, "upstream_of": "P" if c.pool is not None else "Y",
        "x_shape": f"{len(c.x[0])}" if c.dims == 1 else rf"{len(c.x)} \times {len(c.x[0])}",
        "k_shape": f"{len(c.k[0])}" if c.dims == 1 else rf"{len(c.k)} \times {len(c.k[0])}",
        "figure": Deferred(partial(figure, c.to_mapping())),
    }


CELL = 0.62  # cm per grid cell


def figure(spec: Mapping[str, Any]) -> str:
    """The padded input grid (padding cells dashed and shaded, holding 0) and the kernel, as TikZ."""
    c = cv.parse(spec)
    (ph, pw) = c.pads
    H, W = len(c.x), len(c.x[0])
    lines = [rf"\begin{{tikzpicture}}[x={CELL}cm, y={CELL}cm, font=\small]"]
    for r in range(H + 2 * ph):
        for col in range(W + 2 * pw):
            i, j = r - ph, col - pw
            real = 0 <= i < H and 0 <= j < W
            style = "draw=black" if real else "draw=black!45, dashed, fill=black!8"
            text = numeric.decimal_str(c.x[i][j]) if real else "0"
            colour = "" if real else "[text=black!55]"
            lines.append(rf"\draw[{style}] ({col},{-r}) rectangle ++(1,-1); "
                         rf"\node{colour} at ({col + 0.5},{-r - 0.5}) {{${text}$}};")
    for j in range(W):
        lines.append(rf"\node[font=\scriptsize, text=black!60] at ({j + pw + 0.5},0.35) {{{j + 1}}};")
    if c.dims == 2:
        for i in range(H):
            lines.append(rf"\node[font=\scriptsize, text=black!60] at (-0.35,{-i - ph - 0.5}) {{{i + 1}}};")
    note = rf", zero padding $p = {c.padding}$ shaded" if c.padding else ""
    lines.append(rf"\node[anchor=north] at ({(W + 2 * pw) / 2},{-(H + 2 * ph) - 0.2}) {{input $X${note}}};")
    x0 = W + 2 * pw + 1.5
    kh, kw = len(c.k), len(c.k[0])
    for a in range(kh):
        for b in range(kw):
            lines.append(rf"\draw[thick, fill=black!3] ({x0 + b},{-a}) rectangle ++(1,-1); "
                         rf"\node at ({x0 + b + 0.5},{-a - 0.5}) {{${numeric.decimal_str(c.k[a][b])}$}};")
    lines.append(rf"\node[anchor=north] at ({x0 + kw / 2},{-kh - 0.2}) {{kernel $K$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


FAMILY = Convolution()
