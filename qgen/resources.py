"""Where qgen's shipped files live: the LaTeX templates and the example banks.

In a source checkout (and an editable install) they are the top-level `templates/` and
`banks/` folders; a wheel carries copies inside the package as `qgen/_templates` and
`qgen/_banks`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(packaged: str, top_level: str) -> Path:
    inside = _PACKAGE / packaged
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / top_level


def templates_dir() -> Path:
    """The folder of jinja2 LaTeX templates."""
    return _find("_templates", "templates")


def banks_dir() -> Path:
    """The folder of example banks."""
    return _find("_banks", "banks")
