"""The registry of question families: every module here that defines FAMILY registers it.

A new family is one module with `FAMILY = MyFamily()` (and its template); nothing else
needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil

from qgen.errors import FamilyError
from qgen.families.base import Family


def _discover() -> dict[str, Family]:
    found: dict[str, Family] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        family = getattr(module, "FAMILY", None)
        if family is not None:
            if family.name in found:
                raise RuntimeError(f"two families are called {family.name!r}")
            found[family.name] = family
    return found


FAMILIES: dict[str, Family] = _discover()


def get(name: str) -> Family:
    """The family called `name`; an unknown name is an error listing the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise FamilyError(f"unknown family {name!r}; known families: {', '.join(sorted(FAMILIES))} "
                          "(see `qgen list`)") from None
