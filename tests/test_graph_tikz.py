"""draw_graph: a computation graph as TikZ, laid out by depth with nothing drawn over anything else."""

from __future__ import annotations

import math
import random
import re
from functools import lru_cache

import pytest

from qgen.errors import RenderError
from qgen.render.graph_tikz import (
    RADIUS,
    GraphNode,
    depths,
    draw_graph,
    edges_of,
    layout,
)
from qgen.solve import solve


def _diamond() -> list[GraphNode]:
    """x feeds two branches that join: the smallest graph that is not a chain."""
    return [GraphNode("x", "x", kind="input"), GraphNode("a", "+1", ("x",), tag="(i)"),
            GraphNode("b", r"\times 3", ("x",), tag="(ii)"), GraphNode("c", r"\max", ("a", "b"), tag="(iii)")]


def _random_dag(seed: int) -> list[GraphNode]:
    """5–8 nodes, each reading one or two earlier nodes (or x); written independently of the families."""
    rng = random.Random(seed)
    nodes = [GraphNode("x", "x", kind="input")]
    for k in range(1, rng.randint(5, 8) + 1):
        earlier = [n.id for n in nodes]
        inputs = tuple(rng.sample(earlier, min(len(earlier), rng.choice((1, 2)))))
        nodes.append(GraphNode(f"n{k}", "+", inputs, tag=f"({k})"))
    return nodes


@lru_cache(maxsize=None)
def _family_graph(seed: int) -> list[GraphNode]:
    """The graph graph-forward draws for a seed, rebuilt from its params."""
    q = solve("graph-forward", seed=seed)
    nodes = [GraphNode("x", "x", kind="input")]
    for i, n in enumerate(q.params["nodes"], start=1):
        nodes.append(GraphNode(str(i), n["op"], tuple(str(a) for a in n["args"]), tag=f"({i})"))
    return nodes


GRAPHS = [("diamond", _diamond())] + [(f"random{s}", _random_dag(s)) for s in range(12)] + \
         [(f"family{s}", _family_graph(s)) for s in range(20)]


def _distance_to_segment(p, a, b) -> float:
    ax, ay = a
    bx, by = b
    t = max(0.0, min(1.0, ((p[0] - ax) * (bx - ax) + (p[1] - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)))
    return math.dist(p, (ax + t * (bx - ax), ay + t * (by - ay)))


def test_is_one_tikzpicture():
    picture = draw_graph(_diamond())
    assert picture.startswith(r"\begin{tikzpicture}") and picture.endswith(r"\end{tikzpicture}")


def test_same_graph_gives_same_string():
    assert draw_graph(_diamond()) == draw_graph(list(_diamond()))


def test_one_circle_per_node():
    picture = draw_graph(_diamond())
    assert len(re.findall(r"^\\node\[(?:op|input)\]", picture, flags=re.M)) == 4


def test_input_is_drawn_in_the_input_style():
    assert re.search(r"^\\node\[input\] \(g0\) at .* \{\$x\$\};$", draw_graph(_diamond()), flags=re.M)


def test_one_arrow_per_edge():
    assert len(re.findall(r"^\\draw\[edge\]", draw_graph(_diamond()), flags=re.M)) == 4


def test_one_tag_per_tagged_node():
    tags = re.findall(r"^\\node\[tag\] at \(.*\) \{(.*)\};$", draw_graph(_diamond()), flags=re.M)
    assert tags == ["(i)", "(ii)", "(iii)"]


def test_edge_labels_are_drawn_on_their_edges():
    picture = draw_graph(_diamond(), edge_labels={("x", "a"): "w", ("b", "c"): "v"})
    assert re.findall(r"^\\path \((g\d)\) -- \((g\d)\) node\[weight, pos=[\d.]+\] \{\$(\w)\$\};$", picture,
                      flags=re.M) == [("g0", "g1", "w"), ("g2", "g3", "v")]


def test_depth_is_one_more_than_the_deepest_input():
    assert depths(_diamond()) == {"x": 0, "a": 1, "b": 1, "c": 2}


def test_repeated_input_gives_one_edge():
    nodes = [GraphNode("x", "x", kind="input"), GraphNode("s", r"(\cdot)^2", ("x", "x"))]
    assert edges_of(nodes) == [("x", "s")]


@pytest.mark.parametrize("name, nodes", GRAPHS, ids=[g[0] for g in GRAPHS])
def test_columns_follow_depth_from_left_to_right(name, nodes):
    lay, depth = layout(nodes), depths(nodes)
    xs = sorted({lay.centres[n.id][0] for n in nodes})
    assert all(lay.centres[n.id][0] == xs[depth[n.id]] for n in nodes)


@pytest.mark.parametrize("name, nodes", GRAPHS, ids=[g[0] for g in GRAPHS])
def test_circles_do_not_overlap(name, nodes):
    centres = list(layout(nodes).centres.values())
    assert all(math.dist(p, q) >= 2 * RADIUS + 0.3 for i, p in enumerate(centres) for q in centres[i + 1:])


@pytest.mark.parametrize("name, nodes", GRAPHS, ids=[g[0] for g in GRAPHS])
def test_no_edge_passes_through_a_node(name, nodes):
    c = layout(nodes).centres
    hits = [(a, b, n) for a, b in edges_of(nodes) for n in c if n not in (a, b)
            and _distance_to_segment(c[n], c[a], c[b]) < RADIUS]
    assert hits == []


@pytest.mark.parametrize("name, nodes", GRAPHS, ids=[g[0] for g in GRAPHS])
def test_tags_are_clear_of_edges_circles_and_other_tags(name, nodes):
    assert layout(nodes).cost < 100


@pytest.mark.parametrize("name, nodes", GRAPHS, ids=[g[0] for g in GRAPHS])
def test_every_arrow_is_straight(name, nodes):
    assert "bend" not in draw_graph(nodes)


def test_picture_fits_the_text_width():
    nodes = [GraphNode("x", "x", kind="input")] + [GraphNode(f"n{k}", "-", (f"n{k - 1}" if k > 1 else "x",))
                                                   for k in range(1, 12)]
    xs = [c[0] for c in layout(nodes).centres.values()]
    assert max(xs) - min(xs) <= 14.0


def test_node_reading_a_later_node_is_a_render_error():
    with pytest.raises(RenderError) as exc:
        draw_graph([GraphNode("a", "+", ("b",)), GraphNode("b", "x", kind="input")])
    assert "'a'" in str(exc.value) and "topological" in str(exc.value)


def test_repeated_node_id_is_a_render_error():
    with pytest.raises(RenderError) as exc:
        draw_graph([GraphNode("x", "x", kind="input"), GraphNode("x", "+", ("x",))])
    assert "repeat" in str(exc.value)


def test_label_on_a_missing_edge_is_a_render_error():
    with pytest.raises(RenderError) as exc:
        draw_graph(_diamond(), edge_labels={("a", "b"): "w"})
    assert "('a', 'b')" in str(exc.value)


def test_rows_too_close_for_the_circles_are_a_render_error():
    with pytest.raises(RenderError) as exc:
        draw_graph(_diamond(), row_gap=0.5)
    assert "no room" in str(exc.value)


def test_empty_graph_is_a_render_error():
    with pytest.raises(RenderError):
        draw_graph([])
