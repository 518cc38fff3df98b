"""Draw a dense feed-forward network as a TikZ picture: units, bias nodes, labelled edges.

Coordinates are computed here, so the picture needs plain TikZ only (no libraries) and the
same input always gives the same string. Edge labels sit sloped on their edge; each goes to
the first position, source side first, where it hits no node, no earlier label and the fewest
other edges.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence

from qgen.errors import RenderError

__all__ = ["draw_network"]

EdgeKey = tuple[int, int, int]  # (layer, unit i of that layer, unit j of the layer before)
Node = tuple[int, int]  # (layer, unit); unit 0 is the layer's bias node
Point = tuple[float, float]
Segment = tuple[Point, Point]
Rect = tuple[float, float, float, float, float]  # centre x, centre y, width, height, angle

_UNIT_R = 0.5  # cm: radius of a unit (minimum size=10mm)
_BIAS_R = 0.4  # cm: radius of a bias node (minimum size=8mm)
_DY = 1.5  # cm between units of a layer
_DX_PLAIN = 2.6  # cm between layers without edge labels
_MAX_WIDTH = 14.5  # cm from the first layer's centre to the last one's, at most
_POSITIONS = (0.2, 0.27, 0.34, 0.41, 0.48, 0.55, 0.62, 0.69, 0.76, 0.83)

_STYLES = r"""\begin{tikzpicture}[
  >=stealth, line cap=round,
  unit/.style={circle, draw, thick, fill=white, minimum size=10mm, inner sep=1pt,
    font=\small},
  bias/.style={circle, draw=black!45, dashed, fill=black!6, text=black!65, minimum size=8mm,
    inner sep=1pt, font=\small},
  edge/.style={->, draw=black!65},
  biasedge/.style={->, draw=black!40, dashed},
  highlight/.style={->, solid, line width=1.6pt, draw=red!75!black},
  weight/.style={fill=white, inner sep=1pt, font=\scriptsize},
  caption/.style={font=\footnotesize\itshape, text=black!70},
]"""


def _label_size(tex: str) -> tuple[float, float]:
    """Rough width and height (cm) of a \\scriptsize math label, padding included."""
    text = re.sub(r"\\(?:hat|bar|tilde|vec|mathbf|boldsymbol|mathrm|left|right)\b", "", tex)
    text = re.sub(r"\\[A-Za-z]+", "M", text)  # \beta, \ell ... -> one glyph
    scripts = sum(len(a or b) for a, b in re.findall(r"[_^](?:\{([^{}]*)\}|(.))", text))
    glyphs = len(re.sub(r"[{}\s^_]", "", text)) - scripts
    width = 0.15 * max(glyphs, 1) + 0.105 * scripts + 0.12
    height = 0.42 if re.search(r"[_^]", text) else 0.34
    return width, height


def _local(r: Rect, p: Point) -> Point:
    """A point in the rectangle's own frame (origin at its centre, x along it)."""
    dx, dy = p[0] - r[0], p[1] - r[1]
    c, s = math.cos(r[4]), math.sin(r[4])
    return dx * c + dy * s, -dx * s + dy * c


def _corners(r: Rect) -> list[Point]:
    """The four corners of a rotated rectangle."""
    cx, cy, w, h, a = r
    c, s = math.cos(a), math.sin(a)
    half = ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))
    return [(cx + dx * c - dy * s, cy + dx * s + dy * c) for dx, dy in half]


def _rects_overlap(a: Rect, b: Rect) -> bool:
    """Whether two rotated rectangles intersect (separating axis test)."""
    ca, cb = _corners(a), _corners(b)
    for angle in (a[4], a[4] + math.pi / 2, b[4], b[4] + math.pi / 2):
        ux, uy = math.cos(angle), math.sin(angle)
        pa = [x * ux + y * uy for x, y in ca]
        pb = [x * ux + y * uy for x, y in cb]
        if max(pa) <= min(pb) or max(pb) <= min(pa):
            return False
    return True


def _crosses(r: Rect, seg: Segment) -> bool:
    """Whether a segment passes through a rotated rectangle (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = _local(r, seg[0]), _local(r, seg[1])
    w, h = r[2] / 2, r[3] / 2
    lo, hi = 0.0, 1.0
    for p, q in ((x0 - x1, x0 + w), (x1 - x0, w - x0), (y0 - y1, y0 + h), (y1 - y0, h - y0)):
        if p == 0:
            if q < 0:
                return False
        elif p < 0:
            lo = max(lo, q / p)
        else:
            hi = min(hi, q / p)
    return lo < hi


def _circle_depth(r: Rect, centre: Point, radius: float) -> float:
    """How deep a rotated rectangle reaches into a circle (0 if it does not)."""
    lx, ly = _local(r, centre)
    nx, ny = min(max(lx, -r[2] / 2), r[2] / 2), min(max(ly, -r[3] / 2), r[3] / 2)
    return max(0.0, radius - math.hypot(lx - nx, ly - ny))


def _segment(src: Point, r_src: float, dst: Point, r_dst: float) -> Segment:
    """The visible part of an edge: from the source's border to the target's border."""
    length = math.dist(src, dst)
    ux, uy = (dst[0] - src[0]) / length, (dst[1] - src[1]) / length
    return (src[0] + r_src * ux, src[1] + r_src * uy), (dst[0] - r_dst * ux, dst[1] - r_dst * uy)


def _place(label: str, seg: Segment, circles: list[tuple[Point, float]],
           others: list[Segment], placed: list[Rect]) -> float:
    """The `pos` on the edge where the sloped label hits the least; records its box."""
    (x0, y0), (x1, y1) = seg
    angle = math.atan2(y1 - y0, x1 - x0)
    width, height = _label_size(label)
    best: tuple[float, float, Rect] | None = None
    for pos in _POSITIONS:
        rect = (x0 + pos * (x1 - x0), y0 + pos * (y1 - y0), width + 0.06, height + 0.04, angle)
        cost = 10.0 * sum(_rects_overlap(rect, other) for other in placed)
        cost += 10.0 * sum(_circle_depth(rect, c, r) for c, r in circles)
        cost += sum(_crosses(rect, other) for other in others)
        if best is None or cost < best[0] - 1e-9:
            best = (cost, pos, rect)
        if cost == 0:
            break
    assert best is not None
    placed.append(best[2])
    return best[1]


def _check(sizes: Sequence[int], node_labels: Sequence[Sequence[str]],
           biases: Sequence[str | None], keys: list[EdgeKey]) -> None:
    """Raise RenderError when labels or edge keys do not fit the layer sizes."""
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise RenderError(f"draw_network: need >= 2 layers of >= 1 unit, got {list(sizes)}")
    if [len(labels) for labels in node_labels] != list(sizes):
        raise RenderError(f"draw_network: node_labels do not match layer sizes {list(sizes)}")
    if len(biases) != len(sizes) or biases[-1] is not None:
        raise RenderError("draw_network: bias_labels needs one entry per layer, None for the last")
    for layer, i, j in keys:
        ok = 1 <= layer < len(sizes) and 1 <= i <= sizes[layer]
        ok = ok and (1 <= j <= sizes[layer - 1] or (j == 0 and biases[layer - 1] is not None))
        if not ok:
            raise RenderError(f"draw_network: edge {(layer, i, j)} is not an edge of this network")


def draw_network(
    layer_sizes: list[int],
    *,
    node_labels: list[list[str]],
    bias_labels: list[str | None] | None = None,
    edge_labels: dict[tuple[int, int, int], str] | None = None,
    highlight: set[tuple[int, int, int]] | frozenset[tuple[int, int, int]] = frozenset(),
    layer_captions: list[str] | None = None,
) -> str:
    r"""A `\begin{tikzpicture}...\end{tikzpicture}` of a dense network, input layer on the left.

    Edge key (l, i, j): from unit j of layer l-1 (j = 0: its bias node) to unit i of layer l.
    The picture depends only on the shape and the labels, so it is computed once per shape
    and labels (versions of an exam share a few).
    """
    return _draw(tuple(layer_sizes), tuple(tuple(labels) for labels in node_labels),
                 None if bias_labels is None else tuple(bias_labels),
                 None if edge_labels is None else tuple(sorted(edge_labels.items())),
                 frozenset(highlight), None if layer_captions is None else tuple(layer_captions))


@functools.lru_cache(maxsize=512)
def _draw(layer_sizes, node_labels, bias_labels, edge_labels, highlight, layer_captions) -> str:
    biases = list(bias_labels) if bias_labels is not None else [None] * len(layer_sizes)
    labels = dict(edge_labels or {})
    _check(layer_sizes, node_labels, biases, [*labels, *highlight])
    last = len(layer_sizes) - 1
    # edge labels need room: more for wider layers, but the picture must fit \textwidth
    dx = min(3.6 + 0.3 * max(layer_sizes), _MAX_WIDTH / last) if labels else _DX_PLAIN
    top = (max(layer_sizes) - 1) / 2 * _DY

    centres: dict[Node, Point] = {}
    radius: dict[Node, float] = {}
    for layer, n in enumerate(layer_sizes):
        if biases[layer] is not None:
            centres[layer, 0], radius[layer, 0] = (layer * dx, top + _DY), _BIAS_R
        for i in range(1, n + 1):
            centres[layer, i], radius[layer, i] = (layer * dx, ((n + 1) / 2 - i) * _DY), _UNIT_R

    lines = [_STYLES]
    for (layer, i), (x, y) in centres.items():
        style, text = ("bias", biases[layer]) if i == 0 else ("unit", node_labels[layer][i - 1])
        lines.append(rf"\node[{style}] (n{layer}-{i}) at ({x:.2f},{y:.2f}) {{${text}$}};")

    edges = [
        (layer, i, j)
        for layer in range(1, last + 1)
        for i in range(1, layer_sizes[layer] + 1)
        for j in range(0 if biases[layer - 1] is not None else 1, layer_sizes[layer - 1] + 1)
    ]
    for layer, i, j in sorted(edges, key=lambda e: e in highlight):  # highlighted on top
        style = "highlight" if (layer, i, j) in highlight else ("biasedge" if j == 0 else "edge")
        lines.append(rf"\draw[{style}] (n{layer - 1}-{j}) -- (n{layer}-{i});")

    segments = {
        (layer, i, j): _segment(centres[layer - 1, j], radius[layer - 1, j],
                                centres[layer, i], radius[layer, i])
        for layer, i, j in edges
    }
    circles = [(centres[node], radius[node]) for node in centres]
    placed: list[Rect] = []
    for edge in [e for e in edges if e in labels]:  # after all edges: none is drawn over a label
        others = [seg for key, seg in segments.items() if key != edge]
        pos = _place(labels[edge], segments[edge], circles, others, placed)
        layer, i, j = edge
        lines.append(rf"\path (n{layer - 1}-{j}) -- (n{layer}-{i}) "
                     rf"node[weight, sloped, pos={pos:.2f}] {{${labels[edge]}$}};")

    low = -top - _UNIT_R - 0.45
    for layer, caption in enumerate((layer_captions or [])[: len(layer_sizes)]):
        if caption:
            lines.append(
                rf"\node[caption, anchor=base] at ({layer * dx:.2f},{low:.2f}) {{{caption}}};"
            )
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)
