"""Optimisers of the canonical network form: plain SGD, momentum and Adam, with their hyper-parameters.

    optimizer: sgd                                     # w ← w − η g (the default)
    optimizer: {name: momentum, momentum: 0.9}         # v ← μ v + g, w ← w − η v (v starts at 0)
    optimizer: {name: adam, beta1: 0.9, beta2: 0.999, epsilon: 1e-8}
                                                       # m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
                                                       # m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), w ← w − η m̂/(√v̂ + ε)

A bare `momentum` or `adam` takes the defaults. The rules are PyTorch's: SGD(momentum=μ,
dampening=0, nesterov=False) and Adam (not AdamW); weight decay is the coupled L2 term of
`Network.weight_decay`, added to the gradient before the optimiser sees it.

>>> parse({"name": "adam", "beta1": 0.8}).to_mapping()
{'name': 'adam', 'beta1': 0.8, 'beta2': 0.999, 'epsilon': 1e-08}
>>> parse("sgd").to_mapping()
'sgd'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from qgen import numeric
from qgen.errors import BankError

OPTIMIZERS = ("sgd", "momentum", "adam")
DEFAULTS: dict[str, dict[str, Fraction]] = {
    "sgd": {},
    "momentum": {"momentum": Fraction(9, 10)},
    "adam": {"beta1": Fraction(9, 10), "beta2": Fraction(999, 1000), "epsilon": Fraction(1, 10**8)},
}
MAX_STEPS = 2


@dataclass(frozen=True)
class Optimizer:
    """One optimiser and its hyper-parameters (those of the others are None)."""

    name: str = "sgd"
    momentum: Fraction | None = None
    beta1: Fraction | None = None
    beta2: Fraction | None = None
    epsilon: Fraction | None = None

    def hyper(self) -> dict[str, Fraction]:
        """The hyper-parameters this optimiser uses, by name (momentum; beta1, beta2, epsilon)."""
        return {k: getattr(self, k) for k in DEFAULTS[self.name]}

    def to_mapping(self) -> str | dict[str, Any]:
        """`sgd`, or {name, hyper-parameters...} as JSON numbers (ε = 1e-8 is written 1e-08)."""
        if self.name == "sgd":
            return "sgd"
        return {"name": self.name, **{k: _json(v) for k, v in self.hyper().items()}}


SGD = Optimizer()


def _json(v: Fraction) -> int | float | str:
    """A hyper-parameter as it round-trips: 0.9, 1e-08, or 'p/q'."""
    if numeric.terminating_places(v) is None:
        return f"{v.numerator}/{v.denominator}"
    return int(v) if v.denominator == 1 else float(v)


def parse(raw: Any, where: str = "network.optimizer") -> Optimizer:
    """Validate `sgd`, `momentum`, `adam` or a mapping {name, hyper-parameters}; errors name the key."""
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping):
        raise BankError(f"{where}: expected sgd, momentum, adam or a mapping {{name: adam, beta1: 0.9, ...}}, "
                        f"got {raw!r}")
    name = raw.get("name")
    if name not in OPTIMIZERS:
        raise BankError(f"{where}.name: {name!r} is not one of {', '.join(OPTIMIZERS)}")
    allowed = {"name", *DEFAULTS[name]}
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise BankError(f"{where}: unknown key(s) {', '.join(unknown)} for {name}; allowed: {', '.join(sorted(allowed))}")
    values = {k: _number(raw.get(k, default), f"{where}.{k}") for k, default in DEFAULTS[name].items()}
    for k, v in values.items():
        if k == "epsilon":
            if not 0 < v <= Fraction(1, 10):
                raise BankError(f"{where}.epsilon: must be above 0 and at most 0.1, got {numeric.decimal_str(v)}")
        elif not 0 <= v < 1:
            raise BankError(f"{where}.{k}: must be at least 0 and below 1, got {numeric.decimal_str(v)}")
    return Optimizer(name, **values)


def _number(v: Any, where: str) -> Fraction:
    if isinstance(v, bool) or (isinstance(v, str) and len(v) > 40):
        raise BankError(f"{where}: {str(v)[:20]!r} is not a number (write 0.9 or 1e-8)")
    try:
        x = numeric.exact(v)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        raise BankError(f"{where}: {str(v)[:20]!r} is not a number (write 0.9 or 1e-8)") from None
    if x.denominator > 10**12:
        raise BankError(f"{where}: {str(v)[:20]} has more than 12 decimals")
    return x


def parse_decay(raw: Any, where: str = "network.weight_decay") -> Fraction:
    """λ ≥ 0 (at most 10)."""
    x = _number(raw, where)
    if not 0 <= x <= 10:
        raise BankError(f"{where}: must be between 0 and 10, got {numeric.decimal_str(x)}")
    return x


def parse_steps(raw: Any, where: str = "network.steps") -> int:
    """1 or 2 iterations."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_STEPS:
        raise BankError(f"{where}: expected 1 or 2 (the number of iterations), got {raw!r}")
    return raw


def parse_flag(raw: Any, where: str = "network.decay_biases") -> bool:
    """true or false."""
    if not isinstance(raw, bool):
        raise BankError(f"{where}: expected true or false, got {raw!r}")
    return raw


NETWORK_KEYS = ("weight_decay", "decay_biases", "optimizer", "steps")
DOMAIN: dict[str, list[Any]] = {  # a family's domain keys (each shared: drawn once per exam)
    "weight_decay": [0], "decay_biases": [False], "optimizer": ["sgd"], "momentum": [0.9], "beta1": [0.9],
    "beta2": [0.999], "epsilon": [1e-8], "steps": [1],
}


def from_domain(rng: Any, d: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical network keys a domain asks for, only those not at their defaults.

    A key with one choice (the defaults, and every shared key once an exam drew it) takes no
    random number, so a domain without optimiser keys draws exactly what it drew before.
    """
    def pick(key: str) -> Any:
        pool = d.get(key, DOMAIN[key])
        if not isinstance(pool, list) or not pool:
            raise BankError(f"domain.{key}: expected a list of choices, e.g. {DOMAIN[key]}")
        return pool[0] if len(pool) == 1 else pool[int(rng.integers(len(pool)))]

    out: dict[str, Any] = {}
    decay = pick("weight_decay")
    if numeric.exact(decay) != 0:
        out["weight_decay"] = decay
        if pick("decay_biases"):
            out["decay_biases"] = True
    name = pick("optimizer")
    if name != "sgd":
        if name not in OPTIMIZERS:
            raise BankError(f"domain.optimizer: {name!r} is not one of {', '.join(OPTIMIZERS)}")
        out["optimizer"] = {"name": name, **{k: pick(k) for k in DEFAULTS[name]}}
    steps = pick("steps")
    if steps != 1:
        out["steps"] = steps
    return out
