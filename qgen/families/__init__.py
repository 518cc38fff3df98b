"""The registry of question families: name -> family object."""

from __future__ import annotations

from qgen.errors import FamilyError
from qgen.families.base import Family
from qgen.families.mlp_backprop import MlpBackprop

FAMILIES: dict[str, Family] = {f.name: f for f in (MlpBackprop(),)}


def get(name: str) -> Family:
    """The family called `name`; an unknown name is an error listing the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise FamilyError(f"unknown family {name!r}; known families: {', '.join(sorted(FAMILIES))} "
                          "(see `qgen list`)") from None
