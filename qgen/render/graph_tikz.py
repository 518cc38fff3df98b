"""Draw a computation graph (a DAG) as a TikZ picture: columns by depth, circles, tags, labelled edges.

Pure: coordinates are computed here (plain TikZ, no libraries) and the same graph always gives
the same string. Inputs sit in column 0 and every other node one column right of its deepest
input. Within a column, nodes take slots on a half-step grid chosen (column by column, until
nothing improves) so that no edge passes through a node, edges cross as little as possible and
run as level as possible. Tags such as "(iii)" go above or below their circle, wherever no edge,
circle or other tag is; edge labels go where they hit the least.

>>> pic = draw_graph([GraphNode("x", "x", kind="input"), GraphNode("n1", "+1", ("x",), tag="(i)")])
>>> pic.startswith(r"\\begin{tikzpicture}") and r"{$+1$}" in pic
True
"""

from __future__ import annotations

import functools
import itertools
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qgen.errors import RenderError

__all__ = ["GraphNode", "Layout", "depths", "draw_graph", "edges_of", "layout"]

RADIUS = 0.45  # cm: a node's circle (minimum size=9mm)
HALF_STEP = 0.75  # cm: the vertical grid; two nodes of a column are at least two half-steps apart
MAX_DX = 2.2  # cm between columns, at most
MAX_WIDTH = 14.0  # cm from the first column to the last, at most
CLEARANCE = 0.12  # cm an edge keeps from a node it does not touch
TAG_GAP = 0.2  # cm from a circle to the centre line of its tag
RESTARTS = 12  # fresh starts when the first descent leaves an edge through a node or a tag in the way

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1

_STYLES = r"""\begin{tikzpicture}[
  >=stealth, line cap=round,
  op/.style={circle, draw, thick, fill=white, minimum size=9mm, inner sep=1pt, font=\small},
  input/.style={circle, draw, thick, fill=black!8, minimum size=9mm, inner sep=1pt, font=\small},
  edge/.style={->, draw=black!70, semithick},
  tag/.style={font=\footnotesize, text=black!75, inner sep=1pt},
  weight/.style={fill=white, inner sep=1pt, font=\footnotesize},
]"""


@dataclass(frozen=True)
class GraphNode:
    """One node: an id, the math shown in its circle, the ids it reads from, a tag beside it."""

    id: str
    label: str  # math-mode LaTeX, e.g. r"\max" or "+1"
    inputs: tuple[str, ...] = ()
    tag: str = ""  # text-mode LaTeX, e.g. "(iii)"
    kind: str = "op"  # op | input


@dataclass(frozen=True)
class Layout:
    """Where every node sits (cm) and on which side of it its tag goes."""

    centres: Mapping[str, Point]
    tag_sides: Mapping[str, str]  # one of TAG_SIDES
    cost: float  # >= 100: a tag is in the way; >= 1000: an edge passes through a node


def edges_of(nodes: Sequence[GraphNode]) -> list[tuple[str, str]]:
    """Every (source, target) pair once, in node order."""
    out: list[tuple[str, str]] = []
    for n in nodes:
        for src in dict.fromkeys(n.inputs):
            out.append((src, n.id))
    return out


def depths(nodes: Sequence[GraphNode]) -> dict[str, int]:
    """Column of every node: 0 for nodes without inputs, else one more than its deepest input."""
    ids = [n.id for n in nodes]
    if len(set(ids)) != len(ids):
        raise RenderError(f"draw_graph: node ids repeat: {ids}")
    out: dict[str, int] = {}
    for n in nodes:
        missing = [i for i in n.inputs if i not in out]
        if missing:
            raise RenderError(f"draw_graph: node {n.id!r} reads {missing} before they are defined "
                              "(list nodes in topological order)")
        out[n.id] = 1 + max((out[i] for i in n.inputs), default=-1)
    return out


# -- geometry ------------------------------------------------------------------------------
def _segment(a: Point, b: Point) -> tuple[Point, Point]:
    """The visible part of an edge between two circles."""
    d = math.dist(a, b)
    ux, uy = (b[0] - a[0]) / d, (b[1] - a[1]) / d
    return (a[0] + RADIUS * ux, a[1] + RADIUS * uy), (b[0] - RADIUS * ux, b[1] - RADIUS * uy)


def _point_segment(p: Point, a: Point, b: Point) -> float:
    """Distance from p to the segment ab."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(s: tuple[Point, Point], t: tuple[Point, Point]) -> bool:
    """Whether two segments cross at a point inside both."""
    d1, d2 = _cross(t[0], t[1], s[0]), _cross(t[0], t[1], s[1])
    d3, d4 = _cross(s[0], s[1], t[0]), _cross(s[0], s[1], t[1])
    return d1 * d2 < -1e-12 and d3 * d4 < -1e-12


def _segment_hits_box(seg: tuple[Point, Point], box: Box) -> bool:
    """Whether a segment passes through an axis-aligned box (Liang-Barsky)."""
    (x0, y0), (x1, y1) = seg
    lo, hi = 0.0, 1.0
    for p, q in ((x0 - x1, x0 - box[0]), (x1 - x0, box[2] - x0), (y0 - y1, y0 - box[1]), (y1 - y0, box[3] - y0)):
        if p == 0:
            if q < 0:
                return False
        elif p < 0:
            lo = max(lo, q / p)
        else:
            hi = min(hi, q / p)
    return lo < hi


def _boxes_overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _circle_box(c: Point, r: float, box: Box) -> bool:
    nx, ny = min(max(c[0], box[0]), box[2]), min(max(c[1], box[1]), box[3])
    return math.hypot(c[0] - nx, c[1] - ny) < r


def text_size(tex: str, *, glyph: float = 0.17) -> tuple[float, float]:
    """Rough width and height (cm) of a short label: commands count as one glyph."""
    text = re.sub(r"\\(?:left|right|mathrm|text|,)", "", tex)
    text = re.sub(r"\\[A-Za-z]+", "M", text)
    glyphs = len(re.sub(r"[{}\s^_$]", "", text))
    return glyph * max(glyphs, 1) + 0.1, 0.36


TAG_SIDES = ("above", "below", "above right", "below right", "above left", "below left")


def _tag_box(c: Point, tag: str, side: str) -> Box:
    """The box of a tag on one side of its circle: straight above/below, or at a 45° corner."""
    w, h = text_size(tag, glyph=0.11)
    if side in ("above", "below"):
        y = c[1] + (RADIUS + TAG_GAP) * (1 if side == "above" else -1)
        return (c[0] - w / 2, y - h / 2, c[0] + w / 2, y + h / 2)
    reach = (RADIUS + 0.02) / math.sqrt(2)
    x0 = c[0] + reach if side.endswith("right") else c[0] - reach - w
    y0 = c[1] + reach if side.startswith("above") else c[1] - reach - h
    return (x0, y0, x0 + w, y0 + h)


# -- layout --------------------------------------------------------------------------------
def _placements(m: int, k: int) -> list[tuple[int, ...]]:
    """Slot assignments for m nodes of a column on half-steps -k..k, two apart; all orders."""
    return _placements_cached(m, k)


@functools.cache
def _placements_cached(m: int, k: int) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = []
    for combo in itertools.combinations(range(-k, k + 1), m):
        if all(b - a >= 2 for a, b in zip(combo, combo[1:])):
            out.extend(itertools.permutations(combo))
    return out


def _edge_cost(centres: Mapping[str, Point], edges: list[tuple[str, str]]) -> float:
    """Edges through nodes (1000 each), crossings (10), edges leaving/entering at nearly one angle (50),
    vertical travel (1 per cm) and height (0.5 per cm)."""
    segs = {e: _segment(centres[e[0]], centres[e[1]]) for e in edges}
    cost = 0.0
    for (a, b), seg in segs.items():
        for node, c in centres.items():
            if node not in (a, b) and _point_segment(c, *seg) < RADIUS + CLEARANCE:
                cost += 1000
        cost += abs(centres[a][1] - centres[b][1])
    items = list(segs.items())
    for i, ((a, b), s) in enumerate(items):
        for (c, d), t in items[i + 1:]:
            shared = {a, b} & {c, d}
            if not shared:
                cost += 10 * _segments_cross(s, t)
                continue
            hub = shared.pop()
            u = centres[b if hub == a else a]
            v = centres[d if hub == c else c]
            h = centres[hub]
            angle = abs(math.atan2(u[1] - h[1], u[0] - h[0]) - math.atan2(v[1] - h[1], v[0] - h[0]))
            if min(angle, 2 * math.pi - angle) < math.radians(12):
                cost += 50
    ys = [c[1] for c in centres.values()]
    return cost + 0.5 * (max(ys) - min(ys))


def _tag_sides(nodes: Sequence[GraphNode], centres: Mapping[str, Point],
               edges: list[tuple[str, str]]) -> tuple[dict[str, str], float]:
    """A side per tag, node by node, wherever it hits the fewest edges, circles and tags (above
    first); also its cost: 100 per hit left, 3 per tag off to a corner (harder to read)."""
    segs = [_segment(centres[a], centres[b]) for a, b in edges]
    placed: list[Box] = []
    sides: dict[str, str] = {}
    total = 0
    for n in nodes:
        if not n.tag:
            continue
        best: tuple[int, int, str, Box] | None = None
        for rank, side in enumerate(TAG_SIDES):
            box = _tag_box(centres[n.id], n.tag, side)
            hits = sum(_segment_hits_box(s, box) for s in segs)
            hits += sum(_circle_box(c, RADIUS, box) for c in centres.values())
            hits += sum(_boxes_overlap(box, other) for other in placed)
            if best is None or (hits, rank) < best[:2]:
                best = (hits, rank, side, box)
            if hits == 0:
                break
        assert best is not None
        sides[n.id] = best[2]
        placed.append(best[3])
        total += 100 * best[0] + 3 * (best[1] >= 2)
    return sides, total


def _column_dx(n_columns: int) -> float:
    return MAX_DX if n_columns <= 1 else min(MAX_DX, MAX_WIDTH / (n_columns - 1))


def layout(nodes: Sequence[GraphNode], *, column_gap: float | None = None, row_gap: float = 2 * HALF_STEP) -> Layout:
    """Centres of the nodes (cm) and sides of their tags; see the module docstring.

    column_gap: cm between columns (default: as wide as fits, at most MAX_DX); row_gap: cm between
    two nodes of a column.
    """
    return _layout(tuple(nodes), column_gap, row_gap)


@functools.lru_cache(maxsize=64)
def _layout(nodes: tuple[GraphNode, ...], column_gap: float | None, row_gap: float) -> Layout:
    depth = depths(nodes)
    edges = edges_of(nodes)
    n_columns = max(depth.values()) + 1
    columns = [[n.id for n in nodes if depth[n.id] == col] for col in range(n_columns)]
    dx = column_gap or _column_dx(n_columns)
    half = row_gap / 2
    k = max(len(col) for col in columns)  # half-steps -k..k: one spare slot beyond the tallest column
    slots = {col: tuple(2 * i - (len(ids) - 1) for i in range(len(ids))) for col, ids in enumerate(columns)}

    def centres_of(assign: Mapping[int, tuple[int, ...]]) -> dict[str, Point]:
        return {node: (col * dx, -s * half) for col, ids in enumerate(columns)
                for node, s in zip(ids, assign[col])}

    def edge_cost(assign: Mapping[int, tuple[int, ...]]) -> float:
        return _edge_cost(centres_of(assign), edges)

    def full_cost(assign: Mapping[int, tuple[int, ...]]) -> float:
        centres = centres_of(assign)
        return _edge_cost(centres, edges) + _tag_sides(nodes, centres, edges)[1]

    slots = _descend(slots, columns, k, edge_cost)  # cheap first, then with the tags
    slots = _descend(slots, columns, k, full_cost)
    best = full_cost(slots)
    for restart in range(RESTARTS if best >= 100 else 0):  # stuck: retry from other starts, one spare slot more
        rng = random.Random(restart)
        start = {col: rng.choice(_placements(len(ids), k + 1)) for col, ids in enumerate(columns)}
        trial = _descend(start, columns, k + 1, full_cost)
        cost = full_cost(trial)
        if cost < best - 1e-9:
            best, slots = cost, trial
        if best < 100:
            break
    centres = centres_of(slots)
    top = max(c[1] for c in centres.values())
    bottom = min(c[1] for c in centres.values())
    mid = round((top + bottom) / 2 / half) * half
    centres = {node: (x, y - mid) for node, (x, y) in centres.items()}
    sides, tag_cost = _tag_sides(nodes, centres, edges)
    return Layout(centres, sides, _edge_cost(centres, edges) + tag_cost)


def _descend(slots: dict[int, tuple[int, ...]], columns: list[list[str]], k: int,
             cost_of) -> dict[int, tuple[int, ...]]:
    """Coordinate descent: re-place one column at a time while the cost falls (ties keep the current)."""
    best = cost_of(slots)
    for _ in range(6):
        improved = False
        for col, ids in enumerate(columns):
            for candidate in _placements(len(ids), k):
                if candidate == slots[col]:
                    continue
                trial = dict(slots)
                trial[col] = candidate
                cost = cost_of(trial)
                if cost < best - 1e-9:
                    best, slots, improved = cost, trial, True
        if not improved:
            break
    return slots


# -- drawing -------------------------------------------------------------------------------
_POSITIONS = (0.5, 0.35, 0.65, 0.25, 0.75, 0.42, 0.58, 0.3, 0.7)


def _label_pos(label: str, seg: tuple[Point, Point], centres: Mapping[str, Point],
               others: list[tuple[Point, Point]], placed: list[Box]) -> float:
    """The pos on an edge where its label hits the fewest circles, labels and other edges."""
    (x0, y0), (x1, y1) = seg
    w, h = text_size(label, glyph=0.16)
    best: tuple[float, float, Box] | None = None
    for pos in _POSITIONS:
        cx, cy = x0 + pos * (x1 - x0), y0 + pos * (y1 - y0)
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        cost = 10.0 * sum(_boxes_overlap(box, other) for other in placed)
        cost += 10.0 * sum(_circle_box(c, RADIUS, box) for c in centres.values())
        cost += sum(_segment_hits_box(o, box) for o in others)
        if best is None or cost < best[0] - 1e-9:
            best = (cost, pos, box)
    assert best is not None
    placed.append(best[2])
    return best[1]


def draw_graph(nodes: Sequence[GraphNode], *, edge_labels: Mapping[tuple[str, str], str] | None = None,
               column_gap: float | None = None, row_gap: float = 2 * HALF_STEP) -> str:
    r"""A `\begin{tikzpicture}...\end{tikzpicture}` of the graph, inputs on the left, arrows to the right.

    Nodes are listed in topological order; `edge_labels` maps (source id, target id) to math LaTeX;
    column_gap and row_gap as in `layout`.
    """
    nodes = list(nodes)
    if not nodes:
        raise RenderError("draw_graph: the graph has no nodes")
    labels = dict(edge_labels or {})
    edges = edges_of(nodes)
    unknown = [e for e in labels if e not in edges]
    if unknown:
        raise RenderError(f"draw_graph: labelled edges {unknown} are not edges of the graph")
    if row_gap < 2 * RADIUS + 0.3 or (column_gap is not None and column_gap < 2 * RADIUS + 0.5):
        raise RenderError(f"draw_graph: gaps of {column_gap} cm between columns and {row_gap} cm between rows "
                          "leave no room between the circles")
    lay = layout(nodes, column_gap=column_gap, row_gap=row_gap)
    name = {n.id: f"g{i}" for i, n in enumerate(nodes)}
    lines = [_STYLES]
    for n in nodes:
        x, y = lay.centres[n.id]
        lines.append(rf"\node[{n.kind}] ({name[n.id]}) at ({x:.2f},{y:.2f}) {{${n.label}$}};")
    for a, b in edges:
        lines.append(_edge_tex(name[a], name[b], lay.centres, a, b))
    for n in nodes:
        if n.tag:
            box = _tag_box(lay.centres[n.id], n.tag, lay.tag_sides[n.id])
            lines.append(rf"\node[tag] at ({(box[0] + box[2]) / 2:.2f},{(box[1] + box[3]) / 2:.2f}) {{{n.tag}}};")
    segs = {e: _segment(lay.centres[e[0]], lay.centres[e[1]]) for e in edges}
    placed: list[Box] = []
    for e in [e for e in edges if e in labels]:
        pos = _label_pos(labels[e], segs[e], lay.centres, [s for k, s in segs.items() if k != e], placed)
        lines.append(rf"\path ({name[e[0]]}) -- ({name[e[1]]}) node[weight, pos={pos:.2f}] {{${labels[e]}$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _edge_tex(a: str, b: str, centres: Mapping[str, Point], src: str, dst: str) -> str:
    """A straight arrow, or one bent away from a node it would otherwise pass through."""
    seg = _segment(centres[src], centres[dst])
    blocked = [c for node, c in centres.items()
               if node not in (src, dst) and _point_segment(c, *seg) < RADIUS + CLEARANCE]
    if not blocked:
        return rf"\draw[edge] ({a}) -- ({b});"
    (x0, y0), (x1, y1) = centres[src], centres[dst]
    above = _cross((x0, y0), (x1, y1), blocked[0]) > 0  # the node lies left of the direction of travel
    return rf"\draw[edge] ({a}) to[bend {'right' if above else 'left'}=25] ({b});"
