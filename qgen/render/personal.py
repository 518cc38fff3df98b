"""A student's personal fields on their version's compiled pages: where the fields are, and which
stamp page goes on which page of the paper (qgen.render.papers compiles the stamp documents,
qgen.render.stamp draws them)."""

from __future__ import annotations

from typing import Any

from qgen.errors import RenderError
from qgen.render import batch


def field_positions(layouts: dict[str, batch.PaperLayout]) -> dict[str, tuple[int, int, int]]:
    """Where the students' fields are: the same on every version's exam, or a RenderError."""
    found: dict[str, tuple[int, int, int]] = {}
    for version, layout in layouts.items():
        for name, (page, x, y) in layout.fields.items():
            if name in found and found[name][1:] != (x, y):
                raise RenderError(f"exam-{version}: its {name} field is not where the other versions have it "
                                  f"({x}, {y} sp against {found[name][1:]}); a student's name would be misplaced")
            found.setdefault(name, (page, x, y))
    missing = [f for f in ("name", "id", "footer") if f not in found]
    if missing:
        raise RenderError(f"the exams' page log has no position for {', '.join(missing)}")
    return found


def pieces(layout: batch.PaperLayout, first: int, size: tuple[float, float]) -> tuple[Any, ...]:
    """What goes on each page of a student's paper: a page of their stamp pages (which start at
    page `first` of the stamp PDF: the cover's fields, a later page's footer id, the answer
    sheet's fields; see the template's qgenstamp), drawn whole over the page."""
    from qgen.render import stamp

    sheet = layout.fields["sheetname"][0] - 1 if "sheetname" in layout.fields else None
    page = (0.0, 0.0, *size)
    return tuple(stamp.Piece(page=j, rect=page, stamp=first + (0 if j == 0 else 2 if j == sheet else 1))
                 for j in range(layout.pages))
