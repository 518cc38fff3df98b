"""CSV text that a spreadsheet opens safely: every CSV qgen writes goes through `to_csv`.

A cell that starts with `=` `+` `-` `@` (or a tab or carriage return) is read by Excel,
LibreOffice and Google Sheets as a formula, so a student id like `=HYPERLINK(…)` typed into an
answer sheet could run in a colleague's spreadsheet when grades.csv is opened. Such text cells
get a leading `'`; a plain number (`-1.5`, `-2`, `3e-4`) is left alone, so it stays a number.
Reading a CSV back, `restore` drops that `'` again (qgen.grade.sheet.read_table does).

>>> [neutralise(c) for c in ["=1+1", "+1", "@SUM(A1)", "-2+3", "-1.5", "-2", "s001", ""]]
["'=1+1", "'+1", "'@SUM(A1)", "'-2+3", '-1.5', '-2', 's001', '']
>>> restore("'=1+1"), restore("'quoted")
('=1+1', "'quoted")
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise(cell: object) -> str:
    """`cell` as CSV text that no spreadsheet runs as a formula (see the module docstring)."""
    text = "" if cell is None else str(cell)
    if text.startswith(TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def restore(cell: str) -> str:
    """A cell read back from a CSV: the `'` that `neutralise` put before a formula sign dropped."""
    if len(cell) > 1 and cell[0] == "'" and cell[1:].startswith(TRIGGERS):
        return cell[1:]
    return cell


def to_csv(rows: Iterable[Sequence[object]]) -> str:
    """CSV text (comma separated, LF line ends) of a table, every cell neutralised."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([neutralise(c) for c in row] for row in rows)
    return buf.getvalue()
