"""QR codes on exam pages: what they say, and how LaTeX draws them (pure).

A printed page carries a QR code that names the exam, the version, the page and (on a
student's own paper) the student, so a scanned page can be matched to its key. The text is

    qgen:<exam id>:<version>:<page>[:<student id>]

each field percent-encoded (`:` and `%` included), so any id survives the round trip:

>>> text = payload("ml-midterm", "3", page=2, student="O'Brien & Søn_#1 {x}")
>>> text
'qgen:ml-midterm:3:2:O%27Brien%20%26%20S%C3%B8n_%231%20%7Bx%7D'
>>> read_payload(text) == {"exam": "ml-midterm", "version": "3", "page": 2, "student": "O'Brien & Søn_#1 {x}"}
True

segno makes the symbol (error correction M, mask pattern fixed: choosing the best of eight
takes 5x longer, and a course's papers need thousands of codes); `qr_tex` turns its modules
into rules, a row of runs each, which pdflatex typesets in microseconds and which print sharp
at any size.
"""

from __future__ import annotations

import functools
import itertools
from urllib.parse import quote, unquote

import segno

from qgen.errors import QgenError

PREFIX = "qgen"
MASK = 2  # any of 0-7 scans; a fixed one saves segno trying all eight


def payload(exam_id: str, version: str, *, page: int | None = None, student: str | None = None) -> str:
    """The text of a page's QR code (page None: any page of the paper)."""
    fields = [PREFIX, exam_id, version, "" if page is None else str(page)]
    if student is not None:
        fields.append(student)
    return ":".join([fields[0], *(quote(str(f), safe="") for f in fields[1:])])


def read_payload(text: str) -> dict[str, object]:
    """A scanned code's text back as {exam, version, page (int or None), student (or None)}."""
    fields = text.split(":")
    if fields[0] != PREFIX or len(fields) not in (4, 5):
        raise QgenError(f"not a qgen page code: {text!r} (expected qgen:<exam>:<version>:<page>[:<student>])")
    exam, version, page = (unquote(f) for f in fields[1:4])
    if page and not page.isdigit():
        raise QgenError(f"qgen page code {text!r}: the page {page!r} is not a number")
    return {"exam": exam, "version": version, "page": int(page) if page else None,
            "student": unquote(fields[4]) if len(fields) == 5 else None}


@functools.lru_cache(maxsize=8192)  # a paper's codes are asked for again by its later passes and its .tex
def qr_tex(text: str, *, size_mm: float = 16) -> str:
    r"""`{<module length>}{<rows>}` for the template's \qgenqrdef: the symbol `size_mm` wide,
    each row a \qR of light (\qL) and dark (\qD) runs counted in modules."""
    code = segno.make(text, error="m", micro=False, mask=MASK)
    rows = []
    for row in code.matrix:
        runs = [(dark, len(list(group))) for dark, group in itertools.groupby(row, key=bool)]
        if runs and not runs[-1][0]:
            runs.pop()  # a trailing light run draws nothing
        rows.append(r"\qR{" + "".join(rf"\q{'D' if dark else 'L'}{{{n}}}" for dark, n in runs) + "}")
    module = size_mm / len(code.matrix)
    return "{" + f"{module:.4f}mm" + "}{" + " ".join(rows) + "}"
