"""How much room an exam leaves for a part's answer (pure).

By default the answer box follows the work the key shows: `PER_LINE` of height per worked line
(a long line, which the key wraps, counts one and a half), plus `BASE` for the answer itself; never
less than the family's least box for the part's kind (`Part.box_cm`) nor more than `CAP`. A bank
sets a part's box exactly with `space:` (glob patterns over part ids, as `points:`):

    space: {"objective-after": 6cm, "grad.*": 25mm}

>>> from qgen.families.base import Part
>>> p = Part(id="objective-after", prompt="", kind="number", points=1, answer=0.5, answer_tex="0.5",
...          worked=("x",) * 9, box_cm=1.4)
>>> answer_space_cm(p)
6.35
>>> answer_space_cm(Part(id="z", prompt="", kind="number", points=1, answer=0, answer_tex="0", worked=("x",)))
1.6
>>> parse_length("6cm"), parse_length("25 mm"), parse_length("1.5in"), parse_length(3)
(6.0, 2.5, 3.81, 3.0)
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from qgen.errors import BankError

PER_LINE = 0.65  # cm of handwriting per worked line of the key
BASE = 0.5  # cm for the final answer under the work
LONG_LINE = 200  # a worked line of more LaTeX characters than this wraps in the key: 1.5 lines
CAP = 9.0  # cm: the largest box the default gives (a bank may ask for more, up to MAX_CM)
MAX_CM = 20.0  # cm: a box taller than this would not fit on a page with its prompt
_UNITS = {"cm": 1.0, "mm": 0.1, "in": 2.54}
_LENGTH = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(cm|mm|in)?\s*")


def parse_length(value: Any) -> float:
    """A length in cm from `6cm`, `25mm`, `1.5in` or a bare number (cm); ValueError if it is none."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        cm = float(value)
    else:
        m = _LENGTH.fullmatch(str(value))
        if not m:
            raise ValueError(value)
        cm = float(m.group(1)) * _UNITS[m.group(2) or "cm"]
    if not 0 < cm <= MAX_CM:
        raise ValueError(value)
    return round(cm, 4)


def answer_space_cm(part: Any) -> float:
    """The height of a part's answer box in the exam, in cm (see the module docstring)."""
    return room_cm(part.box_cm, part.worked, getattr(part, "space_cm", None))


def room_cm(box_cm: float, worked: Sequence[str], space_cm: float | None = None) -> float:
    """`answer_space_cm` from the part's least box, its worked lines and the bank's space (or None)."""
    if space_cm:
        return float(space_cm)
    lines = sum(1.5 if len(line) > LONG_LINE else 1.0 for line in worked)
    work = PER_LINE * lines + BASE if lines else 0.0
    return round(max(float(box_cm), min(work, CAP)), 2)


def with_space(parts: Sequence[Any], space: Mapping[str, float] | None, where: str) -> list[Any]:
    """The parts with the bank's `space:` (pattern -> cm, validated by the bank reader) applied."""
    out = list(parts)
    for pattern, cm in (space or {}).items():
        if not any(fnmatch.fnmatchcase(p.id, pattern) for p in out):
            raise BankError(f"{where}.space: {pattern!r} matches no selected part; parts are: "
                            f"{', '.join(p.id for p in out)}")
        out = [replace(p, space_cm=cm) if fnmatch.fnmatchcase(p.id, pattern) else p for p in out]
    return out
