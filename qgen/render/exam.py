"""Questions and exams to LaTeX text through the jinja2 templates (pure: returns strings)."""

from __future__ import annotations

from typing import Any, Sequence

from qgen.families.base import Part, Question
from qgen.render.latex import escape_text, render, render_string


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


def document(*, title: str, course: str, date: str, instructions: str, exam_id: str, version: str,
             places: int, questions: Sequence[Question], key: bool, student: dict[str, str] | None = None) -> str:
    """A whole exam sheet (key=False) or answer key (key=True); bank text is escaped here."""
    exam: dict[str, Any] = {
        "title": escape_text(title), "course": escape_text(course), "date": escape_text(date),
        "instructions": escape_text(instructions), "exam_id": escape_text(exam_id), "version": escape_text(version),
        "total_points": sum(q.points for q in questions), "precision_note": precision_note(places),
    }
    bodies = [{"title": q.title, "points": q.points, "body": question_body(q, key=key)} for q in questions]
    safe_student = {k: escape_text(v) for k, v in student.items()} if student else None
    return render("document.tex.j2", exam=exam, key=key, questions=bodies, student=safe_student)
