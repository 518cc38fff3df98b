"""Questions and exams to LaTeX text through the jinja2 templates (pure: returns strings)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
from pylatex.utils import escape_latex

from qgen.errors import RenderError
from qgen.families.base import Part, Question
from qgen.render.latex import (
    _GREEK as _GREEK_LETTERS,
)
from qgen.render.latex import (
    _TEXT_CHARS,
    _render_error,
    environment,
    escape_text,
    render,
    render_string,
)
from qgen.render.scripts import printable

DOCUMENT_TEMPLATE = "document.tex.j2"
PAPERS = {"a4": "a4paper", "letter": "letterpaper"}  # a bank's exam.paper -> geometry's option
_NAME = re.compile(r"[A-Za-z0-9._-]+")


def sections(parts: Sequence[Part]) -> list[tuple[str, list[Part]]]:
    """Consecutive parts grouped by their section title, in order."""
    out: list[tuple[str, list[Part]]] = []
    for p in parts:
        if out and out[-1][0] == p.section:
            out[-1][1].append(p)
        else:
            out.append((p.section, [p]))
    return out


_TABLE = r"""\BLOCK{ from "function-table.tex.j2" import function_table }\VAR{ function_table(table) }"""


def question_body(q: Question, *, key: bool) -> str:
    """The LaTeX body of one question (statement and parts), from its family template.

    A no-calculator question's function table goes after the statement, before the first part.
    """
    body = render(q.template, q=q.context, sections=sections(q.parts), key=key)
    if q.context.get("function_table"):
        table = render_string(_TABLE, table=q.context["function_table"])
        at = body.find(r"\begin{parts}")
        body = body[:at] + table + body[at:] if at >= 0 else body + table
    return body


def precision_note(places: int) -> str:
    """The sentence that states the precision asked for."""
    return (f"Give numerical answers to {places} decimal places unless a part says otherwise; "
            "exact values (such as 0.5 or 24) may be given as they are.")


def exam_context(*, title: str, course: str, date: str, instructions: str, exam_id: str, version: str,
                 places: int, questions: Sequence[Question], paper: str = "a4") -> dict[str, Any]:
    """The exam-wide strings of a paper, escaped for LaTeX; `paper` is a4 or letter."""
    if paper not in PAPERS:
        raise RenderError(f"paper size {paper!r}: use one of {', '.join(PAPERS)}")
    return {"paper": PAPERS[paper],
        "title": escape_text(title), "course": escape_text(course), "date": escape_text(date),
        "instructions": escape_text(instructions), "exam_id": escape_text(exam_id), "version": escape_text(version),
        "total_points": sum(q.points for q in questions), "precision_note": precision_note(places),
    }


def _macro(name: str):
    """A macro of document.tex.j2 as a function; a template error becomes a RenderError."""
    def call(*args: Any) -> str:
        try:
            return getattr(environment().get_template(DOCUMENT_TEMPLATE).module, name)(*args)
        except jinja2.TemplateError as exc:
            raise _render_error(exc, DOCUMENT_TEMPLATE) from exc
    return call


def preamble(exam: Mapping[str, Any], *, key: bool, qr: bool = False,
             fonts: Mapping[str, Any] | None = None) -> str:
    """Everything before \\begin{document}: the same for every paper of an exam set and kind.

    `fonts` (qgen.render.scripts.font_setup) makes it a LuaLaTeX preamble; None, pdflatex's.
    """
    return _macro("preamble")(exam, key, qr, dict(fonts) if fonts is not None else None)


def tables(name: str, pages: int | str, force: Sequence[tuple[str, int]] = ()) -> str:
    """A paper's tables on one line: its expected page count and forced question start pages.

    One line, so that a paper's body starts on the same line however long the tables are
    (LaTeX errors are mapped from a batch document back to the paper's own .tex by line).
    """
    text = _macro("tables")(name, pages, list(force))
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def paper(exam: Mapping[str, Any], questions: Sequence[Question], *, name: str, key: bool,
          answer_sheet: Sequence[Mapping[str, Any]] | None = None) -> str:
    """One paper's body (between \\begin{document} and \\end{document}): cover, questions, answer sheet.

    `name` names the paper in the page log (letters, digits, `-`, `_`, `.`); `answer_sheet`
    comes from `answer_sheet_cells`. A student's name goes on with `stamp_document`.
    """
    bodies = [{"title": q.title, "points": q.points, "body": question_body(q, key=key)} for q in questions]
    return paper_from_bodies(exam, bodies, name=name, key=key, answer_sheet=answer_sheet)


def paper_from_bodies(exam: Mapping[str, Any], bodies: Sequence[Mapping[str, Any]], *, name: str, key: bool,
                      answer_sheet: Sequence[Mapping[str, Any]] | None = None) -> str:
    """`paper` for questions already rendered: {title, points, body} each (title and body LaTeX)."""
    if not _NAME.fullmatch(name):
        raise RenderError(f"paper name {name!r}: use letters, digits, '-', '_' and '.' only")
    return _macro("paper")(exam, {"name": name, "answer_sheet": answer_sheet or None}, bodies, key)


def stamp_document(head: str, at: Mapping[str, tuple[int, int]], students: Sequence[Mapping[str, str]]) -> str:
    """The students' personal fields, one page each (name, id, place: plain text, escaped here),
    every field drawn at `at[field]` = (x, y) in sp from the bottom left, where the papers have
    it (qgen.render.stamp puts the pages' fields on the papers)."""
    lines = [head.rstrip("\n"), r"\begin{document}", r"\pagestyle{empty}"]
    lines += [rf"\qgenat{{{field}}}{{{x}}}{{{y}}}" for field, (x, y) in sorted(at.items())]
    lines += [rf"\qgenstamp{{{escape_name(s['name'])}}}{{{escape_name(s['id'])}}}{{{escape_name(s['place'])}}}"
              for s in students]
    lines += [r"\end{document}", ""]
    return "\n".join(lines)


def escape_name(text: str) -> str:
    r"""A roster cell -> LaTeX: escaped as bank text, but a Greek letter stays a letter (not math)
    and a character no engine prints becomes the placeholder `\qgenmissing{}` (publish warns)."""
    return "".join(str(escape_latex(c)) if c in _GREEK_LETTERS else escape_text(c) if c in _TEXT_CHARS or printable(c)
                   else r"\qgenmissing{}" for c in text)


def assemble(head: str, papers: Sequence[tuple[str, str]]) -> str:
    """A whole document: the preamble, then each paper's tables (one line) and body.

    The tables go right before their paper; a paper's body starts two lines after
    `\\begin{document}` in its own .tex.
    """
    out = [head.rstrip("\n"), r"\begin{document}"]
    for table, body in papers:
        out += [table.strip(), body.strip("\n")]
    out += [r"\end{document}", ""]
    return "\n".join(out)


def answer_sheet_cells(questions: Sequence[Mapping[str, Any]], *, per_row: int = 3) -> list[dict[str, Any]]:
    """The answer sheet of a version from its manifest questions: per question, rows of cells
    (part letter, entry, column name of answers-template.csv) in the template's order."""
    from qgen.grade.columns import part_columns

    sheet = []
    for q in questions:
        cells = []
        for letter, part in zip(_letters(), q["parts"]):
            columns = part_columns(q["index"], part)
            labels = list(part.get("labels") or [])
            for n, col in enumerate(columns):
                # the exam's printed symbol of this cell ($z_{2}$, $\\hat{y}$, the shape of $W_{1}$)
                label = labels[n] if len(labels) == len(columns) else labels[0] if len(labels) == 1 else ""
                if len(col.entry) == 1:
                    entry = f" ${label}$" if label and len(labels) == len(columns) else f" entry {col.entry[0]}"
                elif len(col.entry) == 2:
                    entry = f" row {col.entry[0]}, col.\\ {col.entry[1]}" + (f" of ${label}$" if label else "")
                elif label:
                    entry = f" shape of ${label}$" if part["kind"] == "shape" else f" ${label}$"
                else:
                    entry = ""
                cells.append({"letter": letter, "entry": entry, "column": escape_text(col.name)})
        if cells:
            sheet.append({"number": q["index"], "rows": [cells[i:i + per_row] for i in range(0, len(cells), per_row)]})
    return sheet


def _letters():
    """a, b, …, z, aa, ab, … as the exam class numbers parts."""
    n = 0
    while True:
        n += 1
        k, text = n, ""
        while k:
            k, r = divmod(k - 1, 26)
            text = chr(97 + r) + text
        yield text


def document(*, title: str, course: str, date: str, instructions: str, exam_id: str, version: str,
             places: int, questions: Sequence[Question], key: bool, pages: int | str = "?", name: str | None = None, paper_size: str = "a4") -> str:
    """A whole exam sheet (key=False) or answer key (key=True) of one paper; bank text is escaped here."""
    exam = exam_context(title=title, course=course, date=date, instructions=instructions, exam_id=exam_id,
                        version=version, places=places, questions=questions, paper=paper_size)
    name = name or f"{'key' if key else 'exam'}-{_safe(version)}"
    body = paper(exam, questions, name=name, key=key)
    return assemble(preamble(exam, key=key), [(tables(name, pages), body)])


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)
