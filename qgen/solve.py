"""Solve one instance of a family, drawn from a seed or pinned to given parameters (pure)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from qgen import families
from qgen.errors import BankError
from qgen.families.base import Question
from qgen.notation import resolve


def solve(family: str, *, seed: int | None = None, params: Mapping[str, Any] | None = None,
          notation: Any = None, places: int = 4) -> Question:
    """The solved question; `params` may carry `notation:` and `precision:` besides the family's own keys.

    >>> q = solve("mlp-backprop", seed=7)
    >>> q.family, len(q.parts) > 10
    ('mlp-backprop', True)
    """
    fam = families.get(family)
    if params is not None:
        params = dict(params)
        notation = params.pop("notation", notation)
        places = params.pop("precision", places)
        if not isinstance(places, int) or isinstance(places, bool) or not 0 <= places <= 10:
            raise BankError(f"precision: expected decimal places 0–10, got {places!r}")
    else:
        params = fam.sample(np.random.default_rng(0 if seed is None else seed), fam.default_domain)
    return fam.build(params, resolve(notation), places)
