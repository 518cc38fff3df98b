"""Parameter domains: what a family may draw, with defaults a bank can override key by key.

A domain value is one of
  - a list of choices: `[sigmoid, relu]`, `[0.1, 0.5, 1]`;
  - a fixed value: `2` or `relu` (the same as a one-element list);
  - an integer range: `{integers: [lo, hi], exclude: [0]}`;
  - a decimal grid: `{decimals: [lo, hi], step: 0.5, exclude: [0]}` (lo, lo + step, …, hi).
`merge` checks a bank's overrides against the family's defaults and names the offending key.

>>> rng = np.random.default_rng(0)
>>> draw(rng, {"integers": [1, 3]}, "d.x") in (1, 2, 3)
True
>>> choices({"decimals": [-1, 1], "step": 0.5, "exclude": [0]})
[-1, -0.5, 0.5, 1]
"""

from __future__ import annotations

import re
from collections import Counter, abc
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from typing import Any, Callable, Mapping

import numpy as np

from qgen import numeric
from qgen.errors import BankError, FamilyError, UndefinedValueError
from qgen.families.rules import CONSTRAINTS, DEFAULT, Rules, constraint_of

MAX_CHOICES = 10_000  # a grid or range larger than this is a typo, not a domain


def merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None, where: str,
          limits: Mapping[str, tuple[int, int]] | None = None) -> dict[str, Any]:
    """The family's default domain with a bank's overrides; unknown keys and bad values are errors.

    `limits` bounds keys whose values are counts (inputs, hidden units, data points).
    """
    out = dict(defaults)
    if overrides is None:
        return out
    if not isinstance(overrides, Mapping):
        raise BankError(f"{where}: expected a mapping of parameter domains, got {type(overrides).__name__}")
    for key, value in overrides.items():
        if key not in defaults:
            raise BankError(f"{where}: unknown parameter {key!r}; this family draws: {', '.join(defaults)}")
        if not isinstance(value, (list, Mapping)):
            value = [value]  # a fixed value
        check(value, defaults[key], f"{where}.{key}")
        if limits and key in limits:
            _within(value, limits[key], f"{where}.{key}")
        out[key] = value
    return out


def check(value: Any, default: Any, where: str) -> None:
    """A domain value has the same form as the family's default and is not empty."""
    if isinstance(value, Mapping):
        if "integers" in value:
            _check_integers(value, where)
        elif "decimals" in value:
            _check_decimals(value, where)
        else:
            raise BankError(f"{where}: a range is written {{integers: [lo, hi]}} or {{decimals: [lo, hi], step: s}}, "
                            "each with an optional exclude list")
        if not choices(value):
            raise BankError(f"{where}: the range is empty once {value.get('exclude')} are excluded")
        if _words(default):
            raise BankError(f"{where}: this parameter takes a list of names, not a range")
        return
    if isinstance(value, list):
        if not value:
            raise BankError(f"{where}: the list of choices is empty")
        allowed = _allowed(default)
        if isinstance(default, Patterns):
            _check_patterns(value, where)
        elif allowed is not None:
            bad = [v for v in value if v not in allowed]
            if bad:
                raise BankError(f"{where}: {bad} not among the possible values {sorted(allowed, key=str)}")
        elif _numeric(default):
            bad = [v for v in value if not _is_number(v)]
            if bad:
                raise BankError(f"{where}: {bad} are not numbers (write 2, -0.5 or '1/2')")
        return
    raise BankError(f"{where}: expected a value, a list of choices or {{integers: [lo, hi]}}, got {value!r}")


def _check_integers(value: Mapping[str, Any], where: str) -> None:
    if set(value) - {"integers", "exclude"}:
        raise BankError(f"{where}: an integer range takes only integers and exclude, got {sorted(value)}")
    bounds = value["integers"]
    if (not isinstance(bounds, list) or len(bounds) != 2 or not all(_is_int(b) for b in bounds)
            or bounds[0] > bounds[1]):
        raise BankError(f"{where}.integers: expected [lo, hi] with whole numbers lo <= hi, got {bounds!r}")
    if bounds[1] - bounds[0] > MAX_CHOICES:
        raise BankError(f"{where}.integers: {bounds} holds more than {MAX_CHOICES} values; choose a smaller range")
    _check_exclude(value, where)


def _check_decimals(value: Mapping[str, Any], where: str) -> None:
    if set(value) - {"decimals", "step", "exclude"} or "step" not in value:
        raise BankError(f"{where}: a decimal grid is written {{decimals: [lo, hi], step: 0.5}} with an optional "
                        f"exclude list")
    bounds, step = value["decimals"], value["step"]
    if not isinstance(bounds, list) or len(bounds) != 2 or not all(_is_number(b) for b in bounds):
        raise BankError(f"{where}.decimals: expected [lo, hi] with numbers, got {bounds!r}")
    lo, hi = (numeric.exact(b) for b in bounds)
    if lo > hi:
        raise BankError(f"{where}.decimals: lo {bounds[0]} is above hi {bounds[1]}")
    if not _is_number(step) or numeric.exact(step) <= 0:
        raise BankError(f"{where}.step: expected a number > 0, got {step!r}")
    if (hi - lo) / numeric.exact(step) > MAX_CHOICES:
        raise BankError(f"{where}: the grid holds more than {MAX_CHOICES} values; choose a larger step")
    if (hi - lo) % numeric.exact(step):
        raise BankError(f"{where}: hi {bounds[1]} is not lo {bounds[0]} plus a whole number of steps {step}")
    _check_exclude(value, where)


def _check_exclude(value: Mapping[str, Any], where: str) -> None:
    exclude = value.get("exclude", [])
    if not isinstance(exclude, list) or not all(_is_number(v) for v in exclude):
        raise BankError(f"{where}.exclude: expected a list of numbers, got {exclude!r}")


def choices(spec: Any) -> list[Any]:
    """Every value a domain spec can give, in order (ints where whole, floats as written otherwise)."""
    if isinstance(spec, Mapping):
        excluded = {numeric.exact(v) for v in spec.get("exclude", [])}
        if "integers" in spec:
            lo, hi = spec["integers"]
            return [v for v in range(lo, hi + 1) if v not in excluded]
        lo, hi = (numeric.exact(b) for b in spec["decimals"])
        step = numeric.exact(spec["step"])
        grid = (lo + k * step for k in range(int((hi - lo) / step) + 1))
        return [_plain(v) for v in grid if v not in excluded]
    if isinstance(spec, list):
        return list(spec)
    return [spec]


def _plain(v: Fraction) -> int | float | str:
    """A grid value as the params carry it: 2, -0.5, or '1/3' (each exact through `numeric.exact`)."""
    if v.denominator == 1:
        return int(v)
    places = numeric.terminating_places(v)
    return f"{v.numerator}/{v.denominator}" if places is None else float(numeric.decimal_str(v, places))


def _within(value: Any, bounds: tuple[int, int], where: str) -> None:
    lo, hi = bounds
    bad = [v for v in choices(value) if not _is_int(v) or not lo <= v <= hi]
    if bad:
        raise BankError(f"{where}: {bad} out of range; this family takes whole numbers from {lo} to {hi}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    try:
        numeric.exact(v)
    except (TypeError, ValueError, ZeroDivisionError):
        return False
    return True


def _words(default: Any) -> bool:
    return not isinstance(default, Patterns) and isinstance(default, list) and bool(default) and all(isinstance(v, str) for v in default)


def _numeric(default: Any) -> bool:
    if isinstance(default, Mapping):
        return True
    return isinstance(default, list) and bool(default) and all(_is_number(v) for v in default)


def _allowed(default: Any) -> set[Any] | None:
    """The closed set of values a default list of words or flags allows (None: any number is fine)."""
    if _words(default):
        return set(getattr(default, "allowed", default))
    if isinstance(default, list) and default and all(isinstance(v, bool) for v in default):
        return {False, True}
    return None


class Patterns(list):
    """A default list of key patterns (`W2[1,*]`, `blast[*]`): each picks one key; they are not choices."""


def matching(pattern: str, keys: list[str], last: int) -> list[str]:
    """The keys a pattern names; `last` is the number of the last layer.

    >>> matching("Wlast[1,*]", ["W2[1,1]", "W2[1,2]", "W1[1,1]", "b2[1]"], 2)
    ['W2[1,1]', 'W2[1,2]']
    """
    rx = re.escape(pattern.replace("last", str(last))).replace(r"\*", r"[^\]]*")
    return [k for k in keys if re.fullmatch(rx, k)]


def _check_patterns(value: list[Any], where: str) -> None:
    for v in value:
        if not isinstance(v, str) or not re.fullmatch(r"[Wb](\d+|last)\[[\d*]+(,[\d*]+)?\]", v):
            raise BankError(f"{where}: {v!r} is not a weight pattern; write e.g. W2[1,1], W1[*], Wlast[1,*] or b1[*]")


class Words(list):
    """A default list of words that also knows every word a bank may choose."""

    def __init__(self, default: list[str], allowed: list[str]):
        super().__init__(default)
        self.allowed = list(allowed)


def draw(rng: np.random.Generator, spec: Any, where: str, size: int | None = None) -> Any:
    """One value (or `size` values) from a domain."""
    if isinstance(spec, list):
        pool = spec  # its own choices, in order (what `choices` would copy)
    elif isinstance(spec, abc.Mapping):
        pool = _pool(spec)
    else:
        raise BankError(f"{where}: cannot draw from {spec!r}")
    if size is None:
        return pool[int(rng.integers(len(pool)))]
    return [pool[int(i)] for i in rng.integers(len(pool), size=size)]


# Samplers draw from the same few ranges and grids thousands of times, and listing a decimal grid
# takes exact arithmetic: each range's choices are listed once. Domains are never changed once a
# bank is loaded; the memo holds on to each spec, so its id cannot be reused by another one.
_POOLS: dict[int, tuple[Any, list[Any]]] = {}


def _pool(spec: Mapping[str, Any]) -> list[Any]:
    """`choices(spec)` for a range or grid, listed once per spec object."""
    known = _POOLS.get(id(spec))
    if known is not None and known[0] is spec:
        return known[1]
    if len(_POOLS) >= 4096:
        _POOLS.clear()
    pool = choices(spec)
    _POOLS[id(spec)] = (spec, pool)
    return pool


MAX_TRIES = 400
_TALLY: ContextVar[Counter[str] | None] = ContextVar("qgen_draw_tally", default=None)


@contextmanager
def tallying(counter: Counter[str]):
    """Count, into `counter`, the draws samplers make ("draws") and the constraints that reject them."""
    token = _TALLY.set(counter)
    try:
        yield counter
    finally:
        _TALLY.reset(token)


def draw_fair(family: str, attempt: Callable[[], tuple[dict[str, Any] | None, list[str]]], widen: str,
              tries: int = MAX_TRIES, rules: Rules = DEFAULT) -> dict[str, Any]:
    """Call `attempt` until it gives parameters that break no enabled constraint.

    `attempt` returns (params, problems), each problem named `"<constraint>: <detail>"` (see
    `qgen.families.rules`); params None means the draw itself failed for the reasons given.
    A value that cannot be computed (log of 0) counts as a problem. After `tries` draws the
    error names the constraints that failed most, which domain keys to `widen`, and how to
    switch a constraint off.
    """
    failures: Counter[str] = Counter()
    tally = _TALLY.get()
    for _ in range(tries):
        try:
            params, problems = attempt()
        except UndefinedValueError:
            params, problems = None, ["undefined: a value cannot be computed (log of 0)"]
        problems = rules.keep(problems) if params is not None else problems
        if tally is not None:
            tally["draws"] += 1
            tally.update(set(constraint_of(p) for p in problems))
        if params is not None and not problems:
            return params
        failures.update(problems)
    raise FamilyError(unmet(family, failures, tries, widen))


def unmet(family: str, failures: Counter[str], tries: int, widen: str) -> str:
    """The message of a sampler that found no fair instance: what failed, and what to do."""
    worst = "; ".join(f"{p} ({n} of {tries} draws)" for p, n in failures.most_common(3))
    switchable = [c for c in dict.fromkeys(constraint_of(p) for p, _ in failures.most_common(3)) if c in CONSTRAINTS]
    off = f", or switch a constraint off in the bank (constraints: {{{switchable[0]}: off}})" if switchable else ""
    return f"{family}: no fair instance in {tries} draws; failed most: {worst}. Widen the domain ({widen}){off}."
