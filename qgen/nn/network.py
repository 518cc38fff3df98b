"""The canonical network form of DESIGN.md: one notation-free description of a dense network.

    layers: [{W: [[...]], b: [...], activation: relu}, ...]   # z = W·a + b, W is (n_out, n_in)
    loss: squared_error | half_squared_error | binary_cross_entropy | cross_entropy (softmax output, one-hot y)
    reduction: mean | sum
    data: [{x: [...], y: [...]}, ...]
    learning_rate: 2
    weight_decay: 0.1      # optional: J = data objective + (λ/2)·Σw² (biases only with decay_biases: true)
    optimizer: sgd         # optional: sgd | momentum | adam, or {name: adam, beta1: ...} (qgen.nn.optim)
    steps: 1               # optional: 1 or 2 iterations

`Network.from_mapping` validates a mapping (from YAML or JSON) and names the offending key;
numbers are kept exact (1.3 is 13/10). `to_mapping` gives the JSON-able form back.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

from qgen import numeric
from qgen.errors import BankError
from qgen.nn import optim

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
LOSSES = ("squared_error", "half_squared_error", "binary_cross_entropy")
# a softmax (a whole layer's function, p_k = exp(z_k)/Σ_j exp(z_j)) is an output layer's only, under the
# categorical cross-entropy −Σ_k y_k ln p_k with one-hot targets: not among the families' ACTIVATIONS/LOSSES
OUTPUT_ACTIVATIONS = ACTIVATIONS + ("softmax",)
NETWORK_LOSSES = LOSSES + ("cross_entropy",)
REDUCTIONS = ("mean", "sum")
DEFAULT_LEAKY_SLOPE = Fraction(1, 100)
# what an exam network can be: hand-sized, so a pin file cannot ask for unbounded work
MAX_LAYERS, MAX_UNITS, MAX_POINTS = 6, 12, 20
MAX_VALUE, MAX_DENOMINATOR = Fraction(10**6), 10**12

Matrix = tuple[tuple[Fraction, ...], ...]
OPTIMISATION = ("weight_decay", "decay_biases", "optimizer", "steps")  # optional keys, see qgen.nn.optim


@dataclass(frozen=True)
class Layer:
    """z = W·a + b, then the activation; W has shape (n_out, n_in)."""

    W: Matrix
    b: tuple[Fraction, ...]
    activation: str
    slope: Fraction | None = None  # leaky_relu only

    @property
    def n_out(self) -> int:
        return len(self.W)

    @property
    def n_in(self) -> int:
        return len(self.W[0])


@dataclass(frozen=True)
class Point:
    """One data point: input x and target y."""

    x: tuple[Fraction, ...]
    y: tuple[Fraction, ...]


@dataclass(frozen=True)
class Network:
    """A dense network with its data, loss and one gradient-descent step."""

    layers: tuple[Layer, ...]
    loss: str
    reduction: str
    data: tuple[Point, ...]
    learning_rate: Fraction
    weight_decay: Fraction = Fraction(0)  # λ of the L2 term (λ/2)·Σw² (qgen.nn.optim)
    decay_biases: bool = False
    optimizer: optim.Optimizer = optim.SGD
    steps: int = 1

    @property
    def plain(self) -> bool:
        """One plain gradient-descent step without weight decay (the network as before optimisers)."""
        return self.weight_decay == 0 and self.optimizer.name == "sgd" and self.steps == 1

    @property
    def widths(self) -> list[int]:
        """Input width then each layer's width, e.g. [2, 2, 1]."""
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @classmethod
    def from_mapping(cls, m: Any, where: str = "network") -> "Network":
        """Validate and convert the canonical form; errors name the key (network.layers[0].W[1])."""
        m = _mapping(m, where)
        _known(m, {"layers", "loss", "reduction", "data", "learning_rate", *OPTIMISATION}, where)
        raw_layers = _list(_get(m, "layers", where), f"{where}.layers", nonempty=True, most=MAX_LAYERS)
        layers = tuple(_layer(raw, f"{where}.layers[{i}]") for i, raw in enumerate(raw_layers))
        for i in range(1, len(layers)):
            if layers[i].n_in != layers[i - 1].n_out:
                raise BankError(
                    f"{where}.layers[{i}].W: has {layers[i].n_in} columns but layer {i - 1} has "
                    f"{layers[i - 1].n_out} outputs; W must have shape (n_out, n_in)"
                )
        loss = _choice(m.get("loss", "squared_error"), NETWORK_LOSSES, f"{where}.loss")
        reduction = _choice(m.get("reduction", "mean"), REDUCTIONS, f"{where}.reduction")
        raw_data = _list(_get(m, "data", where), f"{where}.data", nonempty=True, most=MAX_POINTS)
        data = tuple(_point(raw, f"{where}.data[{i}]") for i, raw in enumerate(raw_data))
        for i, p in enumerate(data):
            if len(p.x) != layers[0].n_in:
                raise BankError(f"{where}.data[{i}].x: has {len(p.x)} entries, the first layer takes {layers[0].n_in}")
            if len(p.y) != layers[-1].n_out:
                raise BankError(f"{where}.data[{i}].y: has {len(p.y)} entries, the last layer gives {layers[-1].n_out}")
        if loss == "binary_cross_entropy":
            if layers[-1].activation != "sigmoid":
                raise BankError(f"{where}.loss: binary_cross_entropy needs a sigmoid output layer, not {layers[-1].activation}")
            for i, p in enumerate(data):
                if any(v not in (0, 1) for v in p.y):
                    raise BankError(f"{where}.data[{i}].y: binary_cross_entropy needs labels 0 or 1")
        _softmax_rules(layers, loss, data, where)
        lr = _number(_get(m, "learning_rate", where), f"{where}.learning_rate")
        if lr <= 0:
            raise BankError(f"{where}.learning_rate: must be positive, got {numeric.decimal_str(lr)}")
        return cls(layers, loss, reduction, data, lr, optim.parse_decay(m.get("weight_decay", 0), f"{where}.weight_decay"),
                   optim.parse_flag(m.get("decay_biases", False), f"{where}.decay_biases"),
                   optim.parse(m.get("optimizer", "sgd"), f"{where}.optimizer"),
                   optim.parse_steps(m.get("steps", 1), f"{where}.steps"))

    def to_mapping(self) -> dict[str, Any]:
        """The canonical form: JSON numbers, or "p/q" text for a fraction no decimal writes exactly."""
        def layer(lay: Layer) -> dict[str, Any]:
            out: dict[str, Any] = {"W": [[param_number(v) for v in row] for row in lay.W],
                                   "b": [param_number(v) for v in lay.b], "activation": lay.activation}
            if lay.slope is not None:
                out["slope"] = param_number(lay.slope)
            return out

        return {
            "layers": [layer(lay) for lay in self.layers],
            "loss": self.loss,
            "reduction": self.reduction,
            "data": [{"x": [param_number(v) for v in p.x], "y": [param_number(v) for v in p.y]} for p in self.data],
            "learning_rate": param_number(self.learning_rate),
            **self._optimisation(),
        }

    def _optimisation(self) -> dict[str, Any]:
        """weight_decay, decay_biases, optimizer, steps: only those not at their defaults."""
        out: dict[str, Any] = {}
        if self.weight_decay != 0:
            out["weight_decay"] = param_number(self.weight_decay)
        if self.decay_biases:
            out["decay_biases"] = True
        if self.optimizer.name != "sgd":
            out["optimizer"] = self.optimizer.to_mapping()
        if self.steps != 1:
            out["steps"] = self.steps
        return out


def json_number(v: numeric.Value) -> int | float:
    """An int for whole exact values, else the nearest float."""
    if numeric.is_exact(v) and Fraction(v).denominator == 1:
        return int(v)
    return numeric.to_float(v)


def param_number(v: Fraction) -> int | float | str:
    """A given number as it round-trips exactly: 2, 1.3 (floats print as written), or '1/3'."""
    if numeric.terminating_places(v) is None:
        return f"{v.numerator}/{v.denominator}"
    return json_number(v)


# -- validation helpers ------------------------------------------------------------------
def _mapping(m: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(m, Mapping):
        raise BankError(f"{where}: expected a mapping, got {type(m).__name__}")
    return m


def _known(m: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in m if k not in allowed)
    if unknown:
        raise BankError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _get(m: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in m:
        raise BankError(f"{where}: missing key '{key}'")
    return m[key]


def _list(v: Any, where: str, *, nonempty: bool = False, most: int = MAX_UNITS) -> list[Any]:
    if not isinstance(v, (list, tuple)):
        raise BankError(f"{where}: expected a list, got {type(v).__name__}")
    if nonempty and not v:
        raise BankError(f"{where}: must not be empty")
    if len(v) > most:
        raise BankError(f"{where}: {len(v)} entries; an exam's network has at most {most} here")
    return list(v)


def _choice(v: Any, allowed: tuple[str, ...], where: str) -> str:
    if v not in allowed:
        raise BankError(f"{where}: {v!r} is not one of {', '.join(allowed)}")
    return v


def _number(v: Any, where: str) -> Fraction:
    if isinstance(v, str) and len(v) > 40:
        raise BankError(f"{where}: {v[:20]!r}… is too long for a number")
    try:
        x = numeric.exact(v)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        raise BankError(f"{where}: {str(v)[:20]!r} is not a number (write 2, -0.5, 1.3 or 1/3)") from None
    if abs(x) > MAX_VALUE or x.denominator > MAX_DENOMINATOR:
        raise BankError(f"{where}: {str(v)[:20]} is beyond what an exam computes by hand (at most 10^6 in size, "
                        "12 decimals)")
    return x


def _vector(v: Any, where: str) -> tuple[Fraction, ...]:
    if isinstance(v, (int, float, str)) and not isinstance(v, bool):
        v = [v]
    items = _list(v, where, nonempty=True)
    try:  # samplers convert thousands of drawn networks: the key of an entry is written only for an error
        out = tuple(numeric.exact(x) for x in items)
        if all(abs(x) <= MAX_VALUE and x.denominator <= MAX_DENOMINATOR for x in out):
            return out
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        pass
    return tuple(_number(x, f"{where}[{i}]") for i, x in enumerate(items))


def _layer(raw: Any, where: str) -> Layer:
    m = _mapping(raw, where)
    _known(m, {"W", "b", "activation", "slope"}, where)
    rows = _list(_get(m, "W", where), f"{where}.W", nonempty=True)
    W = tuple(_vector(r, f"{where}.W[{i}]") for i, r in enumerate(rows))
    if len({len(r) for r in W}) != 1:
        raise BankError(f"{where}.W: rows have different lengths {[len(r) for r in W]}")
    b = _vector(m["b"], f"{where}.b") if "b" in m else tuple(Fraction(0) for _ in W)
    if len(b) != len(W):
        raise BankError(f"{where}.b: has {len(b)} entries but W has {len(W)} rows")
    activation = _choice(m.get("activation", "sigmoid"), OUTPUT_ACTIVATIONS, f"{where}.activation")
    slope = None
    if activation == "leaky_relu":
        slope = _number(m.get("slope", DEFAULT_LEAKY_SLOPE), f"{where}.slope")
    elif "slope" in m:
        raise BankError(f"{where}.slope: only a leaky_relu layer has a slope")
    return Layer(W, b, activation, slope)


def _softmax_rules(layers: tuple[Layer, ...], loss: str, data: tuple[Point, ...], where: str) -> None:
    """A softmax only as the last layer, of 2 or more units, under cross_entropy with one-hot targets (and back)."""
    for i, layer in enumerate(layers):
        if layer.activation != "softmax":
            continue
        if i != len(layers) - 1:
            raise BankError(f"{where}.layers[{i}].activation: softmax is an output layer's only; give this hidden "
                            f"layer one of {', '.join(ACTIVATIONS)}")
        if layer.n_out < 2:
            raise BankError(f"{where}.layers[{i}].activation: a softmax needs at least 2 classes (units), this "
                            "layer has 1; use sigmoid with binary_cross_entropy for two classes in one unit")
    last = len(layers) - 1
    if layers[-1].activation == "softmax" and loss != "cross_entropy":
        raise BankError(f"{where}.loss: a softmax output needs loss cross_entropy, not {loss}")
    if loss != "cross_entropy":
        return
    if layers[-1].activation != "softmax":
        raise BankError(f"{where}.layers[{last}].activation: cross_entropy needs a softmax output layer, not "
                        f"{layers[-1].activation}")
    for i, p in enumerate(data):
        if sorted(p.y) != [0] * (len(p.y) - 1) + [1]:
            raise BankError(f"{where}.data[{i}].y: cross_entropy needs a one-hot target (one 1, the rest 0), "
                            f"got {[numeric.decimal_str(v) for v in p.y]}")


def _point(raw: Any, where: str) -> Point:
    m = _mapping(raw, where)
    _known(m, {"x", "y"}, where)
    return Point(_vector(_get(m, "x", where), f"{where}.x"), _vector(_get(m, "y", where), f"{where}.y"))
