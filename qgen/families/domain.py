"""Parameter domains: what a family may draw, with defaults a bank can override key by key.

A domain value is either a list of choices (`[sigmoid, relu]`, `[0.1, 0.5, 1]`) or an integer
range `{integers: [lo, hi], exclude: [0]}`. `merge` checks a bank's overrides against the
family's defaults and names the offending key.

>>> rng = np.random.default_rng(0)
>>> draw(rng, {"integers": [1, 3]}, "d.x") in (1, 2, 3)
True
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Mapping

import numpy as np

from qgen.errors import BankError, FamilyError, UndefinedValueError


def merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """The family's default domain with a bank's overrides; unknown keys and bad values are errors."""
    out = dict(defaults)
    if overrides is None:
        return out
    if not isinstance(overrides, Mapping):
        raise BankError(f"{where}: expected a mapping of parameter domains, got {type(overrides).__name__}")
    for key, value in overrides.items():
        if key not in defaults:
            raise BankError(f"{where}: unknown parameter {key!r}; this family draws: {', '.join(defaults)}")
        check(value, defaults[key], f"{where}.{key}")
        out[key] = value
    return out


def check(value: Any, default: Any, where: str) -> None:
    """A domain value has the same form as the family's default and is not empty."""
    if isinstance(value, Mapping):
        if set(value) - {"integers", "exclude"} or "integers" not in value:
            raise BankError(f"{where}: a range is written {{integers: [lo, hi]}} with an optional exclude list")
        bounds = value["integers"]
        if (not isinstance(bounds, list) or len(bounds) != 2 or not all(isinstance(b, int) for b in bounds)
                or bounds[0] > bounds[1]):
            raise BankError(f"{where}.integers: expected [lo, hi] with whole numbers lo <= hi, got {bounds!r}")
        excluded = set(value.get("exclude", []))
        if all(v in excluded for v in range(bounds[0], bounds[1] + 1)):
            raise BankError(f"{where}: the range {bounds} is empty once {sorted(excluded)} are excluded")
        return
    if isinstance(value, list):
        if not value:
            raise BankError(f"{where}: the list of choices is empty")
        allowed = _allowed(default)
        if allowed is not None:
            bad = [v for v in value if v not in allowed]
            if bad:
                raise BankError(f"{where}: {bad} not among the possible values {sorted(allowed, key=str)}")
        return
    raise BankError(f"{where}: expected a list of choices or {{integers: [lo, hi]}}, got {value!r}")


def _allowed(default: Any) -> set[Any] | None:
    """The closed set of values a default list of words allows (None: any number is fine)."""
    if isinstance(default, list) and default and all(isinstance(v, str) for v in default):
        return set(getattr(default, "allowed", default))
    return None


class Words(list):
    """A default list of words that also knows every word a bank may choose."""

    def __init__(self, default: list[str], allowed: list[str]):
        super().__init__(default)
        self.allowed = list(allowed)


def draw(rng: np.random.Generator, spec: Any, where: str, size: int | None = None) -> Any:
    """One value (or `size` values) from a domain."""
    if isinstance(spec, Mapping):
        lo, hi = spec["integers"]
        pool = [v for v in range(lo, hi + 1) if v not in set(spec.get("exclude", []))]
    elif isinstance(spec, list):
        pool = list(spec)
    else:
        raise BankError(f"{where}: cannot draw from {spec!r}")
    if size is None:
        return pool[int(rng.integers(len(pool)))]
    return [pool[int(i)] for i in rng.integers(len(pool), size=size)]


MAX_TRIES = 400


def draw_fair(family: str, attempt: Callable[[], tuple[dict[str, Any] | None, list[str]]], widen: str,
              tries: int = MAX_TRIES) -> dict[str, Any]:
    """Call `attempt` until it gives parameters that break no constraint (an empty list of problems).

    `attempt` returns (params, problems); params None means the draw itself failed for the reasons
    given. A value that cannot be computed (log of 0) counts as a problem. After `tries` draws the
    error names the constraints that failed most and which domain keys to `widen`.
    """
    failures: Counter[str] = Counter()
    for _ in range(tries):
        try:
            params, problems = attempt()
        except UndefinedValueError:
            params, problems = None, ["a value is undefined (log of 0)"]
        if params is not None and not problems:
            return params
        failures.update(problems)
    worst = ", ".join(f"{name} ({n}×)" for name, n in failures.most_common(3))
    raise FamilyError(f"{family}: no fair instance in {tries} draws from this domain; constraints that failed "
                      f"most: {worst}. Widen the domain ({widen}).")
