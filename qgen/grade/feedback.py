"""One feedback page per graded student: each part's answer, the key, the credit, where a chain went wrong (pure).

The correct answers come from the manifest's part records (`answer`, `places`), printed as the
key prints them. For each question the page names the first part answered wrong, the parts
that earned credit carried forward (ECF) from it, and the diagnosed slips (notes "slip: …").
Every string that comes from the answer file is escaped.

>>> file_names(["ana", "a/b", "a_b", "A_B", ""])
{'ana': 'ana.html', 'a/b': 'a_b.html', 'a_b': 'a_b-2.html', 'A_B': 'A_B-3.html', '': 'student.html'}
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from qgen import numeric
from qgen.export.markup import html_of, math_html
from qgen.grade.report import SLIP, page, table_html
from qgen.grade.score import PartScore
from qgen.grade.sheet import Graded

WRONG = ("wrong", "partial", "malformed")
STATUS = {"correct": "correct", "partial": "partly right", "wrong": "wrong", "blank": "blank",
          "ecf": "right for your earlier answers (ECF)", "malformed": "could not be read",
          "manual": "graded by hand"}
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def file_names(ids: Iterable[str]) -> dict[str, str]:
    """A safe, distinct file name for each student id (letters, digits, . _ -; case-insensitively unique)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for sid in ids:
        if sid in out:
            continue
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", sid).strip(".")[:80] or "student"
        stem = f"_{stem}" if stem.lower().split(".")[0] in _RESERVED else stem
        name, n = f"{stem}.html", 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}.html"
        taken.add(name.lower())
        out[sid] = name
    return out


def answer_text(part: Mapping[str, Any]) -> str:
    """A part's correct answer as the key prints it (numbers to the places asked).

    >>> answer_text({"kind": "vector", "answer": [3.0, 0.00669285], "places": 4})
    '[3, 0.0067]'
    >>> answer_text({"kind": "shape", "answer": [2, 3]})
    '2×3'
    """
    kind, answer, places = part["kind"], part.get("answer"), part.get("places")
    if kind == "text":
        return "see the key"
    if kind == "shape":
        return "×".join(str(x) for x in answer)
    if kind == "vector":
        return "[" + ", ".join(_number(x, places) for x in answer) + "]"
    if kind == "matrix":
        return "[" + "; ".join(", ".join(_number(x, places) for x in row) for row in answer) + "]"
    if kind in ("number", "integer"):
        return _number(answer, places)
    return str(answer)


def _number(x: Any, places: int | None) -> str:
    try:
        return numeric.decimal_str(numeric.exact(x), places)
    except (TypeError, ValueError):
        return str(x)


def prompt_html(text: str) -> str:
    """A prompt's LaTeX as HTML, math as MathML (qgen.export.markup, the one LaTeX-to-HTML converter).

    >>> prompt_html(r"The shape of $W_{1}$ < 1?").startswith('The shape of <math')
    True
    >>> "<mfrac>" in prompt_html(r"What is $\\frac{\\partial J}{\\partial W_{2,1}}$?")
    True
    """
    return html_of(text, inline=True, math="mathml")


def key_html(part: Mapping[str, Any]) -> str:
    """A part's correct answer as HTML: a formula as math (its `answer_tex`, else the key read and written
    back by qgen's formula reader), anything else as the key prints it.

    >>> key_html({"kind": "shape", "answer": [2, 3]})
    '<code>2×3</code>'
    >>> key_html({"kind": "expression", "answer": "g*(1 - g)", "answer_tex": "g(1-g)"}).startswith('<math')
    True
    """
    if part.get("kind") == "expression":
        tex = part.get("answer_tex")
        if isinstance(tex, str) and tex.strip():
            return math_html(tex)
        return f"<code>{html.escape(_formula_text(part))}</code>"
    return f"<code>{html.escape(answer_text(part))}</code>"


def _formula_text(part: Mapping[str, Any]) -> str:
    """A formula key (sympy syntax in older manifests) as qgen's reader writes it back: `g(1 - g)`."""
    from qgen.errors import QgenError
    from qgen.grade.formula import _record_key
    from qgen.grade.formula.read import parse_formula

    try:
        answer, _, spec = _record_key(part)
        return str(parse_formula(answer, spec, trusted=True))
    except (QgenError, KeyError, TypeError, ValueError):
        return str(part.get("answer", ""))


def _credit(s: PartScore, manual: Mapping[str, str]) -> str:
    points = _short(s.points)
    if s.earned is None:
        kept = manual.get(s.column, "").strip()
        return f"{html.escape(kept)} / {points}" if kept else f'<span class="muted">— / {points}</span>'
    return f"{_short(s.earned)} / {points}"


def _short(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x % 1 else str(int(x))


def _status(s: PartScore) -> str:
    tone = {"correct": "ok", "ecf": "ok", "partial": "warn", "wrong": "bad", "malformed": "bad"}
    cls = tone.get(s.status, "muted")
    return f'<span class="{cls}">{html.escape(STATUS.get(s.status, s.status))}</span>'


def _note(s: PartScore) -> str:
    if s.status == "ecf":
        return ""  # the status says it
    if s.note.startswith(SLIP):
        return "likely slip: " + html.escape(s.note[len(SLIP):].strip())
    return html.escape(s.note)


def went_wrong(scores: Sequence[PartScore]) -> list[str]:
    """Where one question's chain went wrong, as HTML list items (none when nothing was wrong)."""
    first = next((s for s in scores if s.status in WRONG), None)
    if first is None:
        return []
    items = [f"First wrong answer: <b>{html.escape(first.part)}</b>"
             + (f" (you wrote <code>{html.escape(first.typed)}</code>)" if first.typed else "") + "."]
    ecf = [s.part for s in scores if s.status == "ecf"]
    if ecf:
        items.append("Credit carried forward (your later answers follow correctly from your own earlier "
                     "ones): " + ", ".join(f"<b>{html.escape(p)}</b>" for p in ecf) + ".")
    for s in scores:
        if s.note.startswith(SLIP):
            items.append(f"<b>{html.escape(s.part)}</b>: likely slip: {html.escape(s.note[len(SLIP):].strip())}.")
    return items


def feedback_html(manifest: Mapping[str, Any], graded: Graded, row: Mapping[str, str] | None = None,
                  keys: dict[tuple[str, str], str] | None = None) -> str:
    """The feedback page of one graded student (`row`: the student's grades.csv row, for TA scores and totals;
    `keys`: the answers as printed, by (version, column), shared by the pages of one run)."""
    row = row or {}
    keys = {} if keys is None else keys
    version = next(v for v in manifest["versions"] if str(v["version"]) == graded.version)
    exam = manifest.get("exam", {})
    heading = exam.get("title") or exam.get("id") or "Exam"
    total = row.get("total") or _short(graded.total)
    top = row.get("max") or _short(float(version["points"]))
    percent = row.get("percent") or (f"{100 * graded.total / float(version['points']):.1f}" if version["points"] else "")
    body = [f"<h1>{html.escape(str(heading))}: feedback</h1>",
            table_html(["", ""], [("student", html.escape(graded.student_id)), ("version", html.escape(graded.version)),
                                  ("score", f"{html.escape(total)} / {html.escape(top)}"
                                   + (f" ({html.escape(percent)} %)" if percent else ""))], "summary")]
    by_question: dict[int, list[PartScore]] = {}
    for s in graded.scores:
        by_question.setdefault(s.question, []).append(s)
    for q in version["questions"]:
        scores = by_question.get(int(q["index"]), [])
        records = {p["id"]: p for p in q["parts"]}
        title = f"Question {q['index']}" + (f": {prompt_html(str(q['title']))}" if q.get("title") else "")
        body.append(f"<h2>{title}</h2>")
        wrong = went_wrong(scores)
        if wrong:
            body.append('<ul class="went-wrong">' + "".join(f"<li>{w}</li>" for w in wrong) + "</ul>")
        rows = []
        for s in scores:
            record = records.get(s.part, {"kind": "text"})
            typed = f"<code>{html.escape(s.typed)}</code>" if s.typed else '<span class="muted">—</span>'
            key = keys.get((graded.version, s.column))
            if key is None:
                key = keys[(graded.version, s.column)] = key_html(record)
            rows.append((f"<b>{html.escape(s.part)}</b><br><span class=\"muted\">"
                         f"{prompt_html(str(record.get('prompt', '')))}</span>",
                         typed, key, _credit(s, row),
                         _status(s), _note(s)))
        body.append(table_html(["part", "your answer", "correct answer", "credit", "status", "note"], rows,
                               "feedback", (3,)))
    return page(f"Feedback: {graded.student_id}", "\n".join(body))


def feedback_pages(manifest: Mapping[str, Any], graded: Sequence[Graded],
                   table: Sequence[Sequence[str]] | None = None) -> dict[str, str]:
    """Every graded student's page: {file name: HTML} (`table`: grades.csv as rows)."""
    done = [g for g in graded if g.status == "graded"]
    rows: dict[str, dict[str, str]] = {}
    if table:
        head = list(table[0])
        for r in table[1:]:
            cells = dict(zip(head, r))
            if cells.get("status") == "graded":
                rows.setdefault(cells["student_id"], cells)
    names = file_names(g.student_id for g in done)
    keys: dict[tuple[str, str], str] = {}
    return {names[g.student_id]: feedback_html(manifest, g, rows.get(g.student_id), keys) for g in done}
