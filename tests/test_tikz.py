"""draw_network: a dense network as TikZ, one node per unit, one \\draw per weight."""

from __future__ import annotations

import re

import pytest

from qgen.errors import RenderError
from qgen.render.tikz import draw_network


def _labels(sizes: list[int]) -> list[list[str]]:
    """x_i for the inputs, h_i for hidden units, \\hat{y}_i for the outputs."""
    names = ["x"] + ["h"] * (len(sizes) - 2) + [r"\hat{y}"]
    return [[f"{name}_{i}" for i in range(1, n + 1)] for name, n in zip(names, sizes, strict=True)]


def _net_231(**kwargs) -> str:
    """The 2-3-1 network of seed 000, with bias nodes on the input and hidden layers."""
    return draw_network(
        [2, 3, 1], node_labels=_labels([2, 3, 1]), bias_labels=["1", "1", None], **kwargs
    )


def _all_weights(sizes: list[int]) -> dict[tuple[int, int, int], str]:
    """A label w^{l}_{ji} on every edge, bias edges included."""
    return {
        (layer, i, j): f"w^{{{layer}}}_{{{j}{i}}}"
        for layer in range(1, len(sizes))
        for i in range(1, sizes[layer] + 1)
        for j in range(sizes[layer - 1] + 1)
    }


def test_is_one_tikzpicture():
    picture = _net_231()
    assert picture.startswith(r"\begin{tikzpicture}")
    assert picture.endswith(r"\end{tikzpicture}")


def test_same_input_gives_same_string():
    first = _net_231(edge_labels=_all_weights([2, 3, 1]), highlight={(2, 1, 1)})
    assert first == _net_231(edge_labels=_all_weights([2, 3, 1]), highlight={(2, 1, 1)})


def test_one_node_per_unit():
    assert len(re.findall(r"^\\node\[unit\]", _net_231(), flags=re.M)) == 2 + 3 + 1


def test_one_bias_node_per_layer_with_a_bias_label():
    assert len(re.findall(r"^\\node\[bias\]", _net_231(), flags=re.M)) == 2


def test_one_draw_per_weight_including_biases():
    assert len(re.findall(r"^\\draw\[", _net_231(), flags=re.M)) == 2 * 3 + 3 + 3 * 1 + 1


def test_no_bias_edges_without_bias_labels():
    picture = draw_network([2, 3, 1], node_labels=_labels([2, 3, 1]))
    assert len(re.findall(r"^\\draw\[", picture, flags=re.M)) == 2 * 3 + 3 * 1


def test_node_labels_are_math():
    assert r"(n1-2) at (4.50,0.00) {$h_2$};" in _net_231(edge_labels={(1, 1, 1): "w"})


def test_bias_edges_are_dashed_style():
    assert r"\draw[biasedge] (n0-0) -- (n1-1);" in _net_231()


def test_highlighted_edge_carries_the_highlight_style():
    assert r"\draw[highlight] (n1-1) -- (n2-1);" in _net_231(highlight={(2, 1, 1)})


def test_highlighted_edges_are_drawn_last():
    draws = re.findall(r"^\\draw\[(\w+)\]", _net_231(highlight={(1, 2, 0)}), flags=re.M)
    assert draws[-1] == "highlight"


def test_edge_label_appears_on_its_edge():
    picture = _net_231(edge_labels={(1, 1, 2): r"W^1_{21}"})
    edge = r"\\path \(n0-2\) -- \(n1-1\) node\[weight, sloped, pos=[0-9.]+\] "
    assert re.search(edge + r"\{\$W\^1_\{21\}\$\};", picture)


def test_every_edge_label_appears():
    assert _net_231(edge_labels=_all_weights([2, 3, 1])).count("node[weight") == 13


def test_labels_of_one_unit_are_spread_along_its_edges():
    picture = _net_231(edge_labels=_all_weights([2, 3, 1]))
    edges_of_x1 = r"\\path \(n0-1\) -- \(n1-\d\) node\[weight, sloped, pos=([0-9.]+)\]"
    positions = re.findall(edges_of_x1, picture)
    assert len(set(positions)) == 3


def test_captions_under_the_layers():
    picture = _net_231(layer_captions=["input", "hidden", "output"])
    captions = re.findall(r"^\\node\[caption, anchor=base\] at .* \{(\w+)\};", picture, flags=re.M)
    assert captions == ["input", "hidden", "output"]


def test_four_layers_of_four_fit_the_text_width():
    sizes = [4, 4, 4, 4]
    picture = draw_network(
        sizes, node_labels=_labels(sizes), bias_labels=["1", "1", "1", None],
        edge_labels=_all_weights(sizes),
    )
    xs = [float(x) for x in re.findall(r" at \((-?[0-9.]+),", picture)]
    assert max(xs) - min(xs) <= 14.5


def test_needs_only_plain_tikz():
    assert "arrows.meta" not in _net_231() and "usetikzlibrary" not in _net_231()


def test_edge_from_a_missing_bias_node_is_an_error():
    with pytest.raises(RenderError) as info:
        draw_network([2, 1], node_labels=_labels([2, 1]), edge_labels={(1, 1, 0): "b"})
    assert "(1, 1, 0)" in str(info.value)


def test_node_labels_must_match_layer_sizes():
    with pytest.raises(RenderError) as info:
        draw_network([2, 3, 1], node_labels=_labels([2, 2, 1]))
    assert "node_labels" in str(info.value)
