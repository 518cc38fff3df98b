"""qgen.nn.network: the canonical network form validates, names the offending key, and round-trips."""

from __future__ import annotations

import copy
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qgen.errors import BankError
from qgen.nn.network import DEFAULT_LEAKY_SLOPE, Network

SEED_001 = {
    "layers": [{"W": [[3, -1], [-3, 1]], "b": [2, -1], "activation": "relu"},
               {"W": [[-2, 2]], "b": [1], "activation": "sigmoid"}],
    "loss": "squared_error",
    "reduction": "mean",
    "data": [{"x": [2, 5], "y": [1]}],
    "learning_rate": 2,
}


def spec(**changes):
    """Seed 001's network with top-level keys replaced."""
    out = copy.deepcopy(SEED_001)
    out.update(changes)
    return out


def error(mapping) -> str:
    with pytest.raises(BankError) as exc:
        Network.from_mapping(mapping)
    return str(exc.value)


# -- reading ---------------------------------------------------------------------------
def test_widths_of_seed_001():
    assert Network.from_mapping(SEED_001).widths == [2, 2, 1]


def test_decimals_are_exact():
    net = Network.from_mapping(spec(data=[{"x": [2, 1], "y": [1.3]}]))
    assert net.data[0].y == (Fraction(13, 10),)


def test_fraction_text_is_exact():
    assert Network.from_mapping(spec(learning_rate="1/3")).learning_rate == Fraction(1, 3)


def test_missing_bias_is_zero():
    layers = copy.deepcopy(SEED_001["layers"])
    del layers[0]["b"]
    assert Network.from_mapping(spec(layers=layers)).layers[0].b == (0, 0)


def test_leaky_relu_gets_the_default_slope():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[0]["activation"] = "leaky_relu"
    assert Network.from_mapping(spec(layers=layers)).layers[0].slope == DEFAULT_LEAKY_SLOPE


def test_a_single_number_is_a_one_entry_vector():
    assert Network.from_mapping(spec(data=[{"x": [2, 5], "y": 1}])).data[0].y == (1,)


# -- round trip ---------------------------------------------------------------------------
def test_seed_001_round_trips_exactly():
    assert Network.from_mapping(SEED_001).to_mapping() == SEED_001


def test_whole_numbers_are_written_as_ints():
    assert isinstance(Network.from_mapping(SEED_001).to_mapping()["layers"][0]["W"][0][0], int)


def test_leaky_slope_is_written_back():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[0].update(activation="leaky_relu", slope=0.2)
    assert Network.from_mapping(spec(layers=layers)).to_mapping()["layers"][0]["slope"] == 0.2


one_decimal = st.one_of(st.integers(-5, 5), st.integers(-50, 50).map(lambda k: k / 10))


@st.composite
def canonical(draw):
    widths = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
    layers = []
    for n_in, n_out in zip(widths, widths[1:]):
        layer = {"W": [[draw(one_decimal) for _ in range(n_in)] for _ in range(n_out)],
                 "b": [draw(one_decimal) for _ in range(n_out)],
                 "activation": draw(st.sampled_from(["sigmoid", "tanh", "relu", "linear", "leaky_relu"]))}
        if layer["activation"] == "leaky_relu":
            layer["slope"] = draw(st.sampled_from([0.01, 0.1, 0.25]))
        layers.append(layer)
    data = [{"x": [draw(one_decimal) for _ in range(widths[0])], "y": [draw(one_decimal) for _ in range(widths[-1])]}
            for _ in range(draw(st.integers(1, 3)))]
    return {"layers": layers, "loss": draw(st.sampled_from(["squared_error", "half_squared_error"])),
            "reduction": draw(st.sampled_from(["mean", "sum"])), "data": data,
            "learning_rate": draw(st.sampled_from([0.01, 0.1, 0.5, 1, 2]))}


@settings(max_examples=100, deadline=None)
@given(canonical())
def test_from_mapping_of_to_mapping_is_the_same_network(m):
    net = Network.from_mapping(m)
    assert Network.from_mapping(net.to_mapping()) == net


@settings(max_examples=100, deadline=None)
@given(canonical())
def test_to_mapping_gives_back_the_numbers_written(m):
    assert Network.from_mapping(m).to_mapping() == m


def test_non_terminating_fraction_round_trips():
    net = Network.from_mapping(spec(learning_rate="1/3"))
    assert Network.from_mapping(net.to_mapping()) == net


# -- errors name the key path --------------------------------------------------------------
def test_wrong_shape_chain_names_the_layer():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[1]["W"] = [[-2, 2, 1]]
    assert "network.layers[1].W" in error(spec(layers=layers))


def test_non_number_names_the_entry():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[0]["W"][0][1] = "three"
    assert "network.layers[0].W[0][1]" in error(spec(layers=layers))


def test_truth_value_is_not_a_number():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[0]["b"][1] = True
    assert "network.layers[0].b[1]" in error(spec(layers=layers))


def test_ragged_matrix_names_the_matrix():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[0]["W"] = [[3, -1], [-3]]
    assert "network.layers[0].W" in error(spec(layers=layers))


def test_bias_of_the_wrong_length_names_it():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[0]["b"] = [2]
    assert "network.layers[0].b" in error(spec(layers=layers))


def test_binary_cross_entropy_with_a_relu_output_names_the_loss():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[1]["activation"] = "relu"
    message = error(spec(layers=layers, loss="binary_cross_entropy"))
    assert "network.loss" in message and "sigmoid" in message


def test_binary_cross_entropy_needs_labels_0_or_1():
    message = error(spec(loss="binary_cross_entropy", data=[{"x": [2, 5], "y": [0.5]}]))
    assert "network.data[0].y" in message


def test_unknown_top_level_key_is_named():
    assert "dropout" in error(spec(dropout=0.5))  # optimizer is a known key since issue 16


def test_unknown_layer_key_is_named():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[0]["dropout"] = 0.5
    message = error(spec(layers=layers))
    assert "network.layers[0]" in message and "dropout" in message


def test_unknown_activation_names_the_key():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[0]["activation"] = "softplus"
    assert "network.layers[0].activation" in error(spec(layers=layers))


def test_slope_on_a_relu_layer_is_an_error():
    layers = copy.deepcopy(SEED_001["layers"])
    layers[0]["slope"] = 0.1
    assert "network.layers[0].slope" in error(spec(layers=layers))


def test_negative_learning_rate_names_the_key():
    assert "network.learning_rate" in error(spec(learning_rate=-0.1))


def test_zero_learning_rate_is_an_error():
    assert "network.learning_rate" in error(spec(learning_rate=0))


def test_huge_negative_learning_rate_is_still_a_bank_error():
    assert "network.learning_rate" in error(spec(learning_rate=-1e70))


def test_input_of_the_wrong_length_names_the_point():
    assert "network.data[0].x" in error(spec(data=[{"x": [2, 5, 1], "y": [1]}]))


def test_missing_data_names_the_key():
    m = spec()
    del m["data"]
    assert "data" in error(m)


def test_empty_layers_is_an_error():
    assert "network.layers" in error(spec(layers=[]))


def test_unknown_loss_names_the_key():
    assert "network.loss" in error(spec(loss="hinge"))


def test_unknown_reduction_names_the_key():
    assert "network.reduction" in error(spec(reduction="median"))


def test_not_a_mapping():
    assert "network" in error([1, 2, 3])


# -- never anything but BankError -----------------------------------------------------------
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def _keyed(values):
    """Mappings that use the canonical keys, so validation gets past the first check."""
    keys = st.sampled_from(["layers", "loss", "reduction", "data", "learning_rate", "W", "b", "activation", "slope",
                            "x", "y"])
    return st.dictionaries(keys, values, max_size=6)


near_valid = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats() | st.sampled_from(
        ["relu", "sigmoid", "leaky_relu", "binary_cross_entropy", "mean", "1/0", "nan", "1/3", ""]),
    lambda children: st.lists(children, max_size=3) | _keyed(children),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(json_like)
def test_from_mapping_raises_only_bank_error_on_arbitrary_input(m):
    try:
        Network.from_mapping(m)
    except BankError:
        pass


@settings(max_examples=200, deadline=None)
@given(near_valid)
def test_from_mapping_raises_only_bank_error_on_near_valid_input(m):
    try:
        Network.from_mapping(m)
    except BankError:
        pass


@settings(max_examples=100, deadline=None)
@given(canonical(), st.sampled_from(["layers", "loss", "reduction", "data", "learning_rate"]), json_like)
def test_from_mapping_raises_only_bank_error_when_one_key_is_replaced(m, key, value):
    m[key] = value
    try:
        Network.from_mapping(m)
    except BankError:
        pass
