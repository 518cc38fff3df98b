"""Moodle XML: a category per exam question, holding one Moodle question per version (pure).

One Moodle question is one version of one exam question, so a Moodle quiz can draw a
"random question" from each category and every student gets a whole version of it. A
question with a single number (or whole number) to type is a `numerical` question; any other
is a `cloze` (Embedded answers) question: the statement, then each part's prompt with its boxes,
`{w:NUMERICAL:=value:tolerance}` per number, `{w:MULTICHOICE:=yes~no}` for a label and
`{w:SHORTANSWER:=3x2~=3 x 2~…}` for a shape. A cloze question's mark is the sum of its
weights w, whole numbers: the part's points shared among its cells, scaled by the smallest
factor that makes every weight of that exam question whole (the same in every version).

>>> cloze_cell(Cell("q1.z", "number", 0.5, "0.5", Fraction(1), Decimal("0.005")), 2)
'{2:NUMERICAL:=0.5:0.005}'
"""

from __future__ import annotations

import base64
import html
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from qgen.export.model import (
    FIGURE_SRC,
    Cell,
    ExamExport,
    PartExport,
    QuestionExport,
    tolerance_text,
)

CATEGORY_ROOT = "$course$/top"
PLUGINFILE = "@@PLUGINFILE@@/"  # how Moodle XML refers to a file embedded in the same text
_CLOZE_SPECIAL = "\\}#~/\""


def cloze_escape(text: str) -> str:
    r"""A cloze answer's text: HTML-escaped, and } # ~ / " \ escaped with a backslash."""
    escaped = "".join("\\" + c if c in _CLOZE_SPECIAL else c for c in text)
    return html.escape(escaped, quote=False)


def cloze_cell(cell: Cell, weight: int) -> str:
    """The embedded-answer code of one cell."""
    if cell.kind in ("number", "integer"):
        answers = cell.lms_answers
        return f"{{{weight}:NUMERICAL:{'~'.join(f'={v}:{tolerance_text(t)}' for v, t in answers)}}}"
    if cell.kind == "label" and cell.choices:
        options = "~".join(("=" if c == cell.value else "") + cloze_escape(c) for c in cell.choices)
        return f"{{{weight}:MULTICHOICE:{options}}}"
    spellings = cell.choices or (cell.value,)
    options = "~".join("=" + cloze_escape(s) for s in spellings)
    return f"{{{weight}:SHORTANSWER:{options}}}"


def weights(questions: list[QuestionExport]) -> dict[str, int]:
    """Whole-number cloze weights per answer column, one scale for all versions of an exam question."""
    points = [c.points for q in questions for c in q.cells]
    scale = math.lcm(*(p.denominator for p in points)) if points else 1
    return {c.column: int(c.points * scale) for q in questions for c in q.cells}


def category_path(*names: str) -> str:
    """A Moodle category path under the course's top category ('/' in a name is written '//')."""
    return "/".join([CATEGORY_ROOT, *(n.replace("/", "//") for n in names)])


def part_html(part: PartExport, box: Callable[[Cell], str]) -> str:
    """A part's prompt and its answer boxes (`box` writes one cell's box)."""
    head = f"({part.letter}) {part.prompt_html}"
    cells = part.cells
    if len(cells) == 1 and part.kind not in ("vector", "matrix"):
        hint = " <small>(rows x columns, e.g. 3x2)</small>" if part.kind == "shape" else ""
        return f'<p class="qgen-part">{head} {box(cells[0])}{hint}</p>'
    if part.kind == "matrix" and part.shape:
        rows, cols = part.shape
        grid = "".join("<tr>" + "".join(f'<td style="padding:2px 6px">{box(cells[r * cols + c])}</td>'
                                        for c in range(cols)) + "</tr>" for r in range(rows))
        return f'<p class="qgen-part">{head}</p>\n<table class="qgen-cells">{grid}</table>'
    rows = "".join(f'<tr><td style="padding:2px 6px">{entry_label(c, i)}</td><td>{box(c)}</td></tr>'
                   for i, c in enumerate(cells, start=1))
    return f'<p class="qgen-part">{head}</p>\n<table class="qgen-cells">{rows}</table>'


def entry_label(cell: Cell, i: int) -> str:
    """How a vector's entry is named next to its box: its symbol, else its position."""
    return f"\\({html.escape(cell.symbol, quote=False)}\\) =" if cell.symbol else f"entry {i}:"


def omitted_html(q: QuestionExport) -> str:
    """A note naming the parts of the printed question that are not in the LMS question."""
    left = [p for p in q.parts if not p.auto]
    if not left:
        return ""
    names = ", ".join(f"({p.letter})" for p in left)
    return (f'<p class="qgen-omitted"><em>Not included here: part{"s" if len(left) > 1 else ""} {names} of this '
            "question (answered on paper and graded separately).</em></p>")


def question_html(q: QuestionExport, box: Callable[[Cell], str]) -> str:
    """The whole text of an LMS question: statement, headings, interludes, auto-graded parts, notes."""
    out: list[str] = []
    heading = ""
    for b in q.blocks:
        if b.kind == "heading":
            heading = b.html
        elif b.kind == "text":
            out.append(b.html)
        else:
            part = q.part(b.part)
            if not part.auto:
                continue
            if heading:
                out.append(f"<h4>{heading}</h4>")
                heading = ""
            out.append(part_html(part, box))
    out += [omitted_html(q), q.precision_html()]
    return "\n".join(x for x in out if x)


def worked_html(q: QuestionExport) -> str:
    """General feedback: the key's worked solution of every auto-graded part."""
    return "\n".join(part_worked_html(p) for p in q.auto_parts if p.worked)


def part_worked_html(p: PartExport) -> str:
    """One part's worked solution (math for the LMS's MathJax), "" when it has none."""
    if not p.worked:
        return ""
    lines = "".join(f"$${html.escape(line, quote=False)}$$" for line in p.worked)
    return f"<p>({p.letter})</p>{lines}"


def _with_files(el: ET.Element, text: str, exam: ExamExport) -> None:
    """The images `text` refers to, embedded in `el` as Moodle does: <file name=… path="/" encoding="base64">,
    referred to as @@PLUGINFILE@@/name."""
    for name, data in exam.images:
        if FIGURE_SRC + name in text:
            ET.SubElement(el, "file", {"name": name, "path": "/", "encoding": "base64"}).text = \
                base64.b64encode(data).decode("ascii")


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    ET.SubElement(el, "text").text = text
    return el


def _name(exam: ExamExport, q: QuestionExport, version: str) -> str:
    name = f"{exam.id} Q{q.index} v{version}: {q.title}"
    return name if len(name) <= 250 else name[:249] + "\u2026"


def _numerical(el: ET.Element, q: QuestionExport) -> None:
    cell = q.cells[0]
    for value, tol in cell.lms_answers:
        answer = ET.SubElement(el, "answer", {"fraction": "100", "format": "moodle_auto_format"})
        ET.SubElement(answer, "text").text = value
        _text(answer, "feedback", "", format="html")
        ET.SubElement(answer, "tolerance").text = tolerance_text(tol)
    for tag, value in (("unitgradingtype", "0"), ("unitpenalty", "0.1000000"), ("showunits", "3"),
                       ("unitsleft", "0")):
        ET.SubElement(el, tag).text = value


def _question(exam: ExamExport, q: QuestionExport, version: str, weight: dict[str, int]) -> ET.Element:
    single = len(q.cells) == 1 and q.cells[0].kind in ("number", "integer")
    el = ET.Element("question", {"type": "numerical" if single else "cloze"})
    _text(el, "name", _name(exam, q, version))
    text = question_html(q, (lambda c: "") if single else (lambda c: cloze_cell(c, weight[c.column])))
    _with_files(_text(el, "questiontext", PLUGINFILE.join(text.split(FIGURE_SRC)), format="html"), text, exam)
    _text(el, "generalfeedback", worked_html(q), format="html")
    if single:
        ET.SubElement(el, "defaultgrade").text = _number(q.auto_points)
    ET.SubElement(el, "penalty").text = "0"
    ET.SubElement(el, "hidden").text = "0"
    if single:
        _numerical(el, q)
    return el


def _number(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else format(Decimal(x.numerator) / Decimal(x.denominator), "f")


def moodle_xml(exam: ExamExport) -> str:
    """The Moodle XML of an exam set's auto-graded parts (UTF-8 text, with an XML declaration)."""
    quiz = ET.Element("quiz")
    quiz.append(ET.Comment(_comment(exam)))
    indices = sorted({q.index for v in exam.versions for q in v.questions})
    for index in indices:
        versions = [(v.id, q) for v in exam.versions for q in v.questions if q.index == index and q.cells]
        if not versions:
            continue
        first = versions[0][1]
        cat = ET.SubElement(quiz, "question", {"type": "category"})
        _text(cat, "category", category_path(exam.id, f"Q{index} {first.title}"))
        info = (f"<p>{html.escape(exam.title)}: question {index}, {html.escape(first.title)}; "
                "one question per version.</p>")
        _text(cat, "info", info, format="html")
        weight = weights([q for _, q in versions])
        scaled = any(weight[c.column] != c.points for _, q in versions for c in q.cells)
        if scaled:
            quiz.append(ET.Comment(f" Q{index}: cloze weights are points x {_scale(versions, weight)}; "
                                   f"set this question's maximum mark in the quiz to {_number(first.auto_points)} "))
        for vid, q in versions:
            quiz.append(_question(exam, q, vid, weight))
    ET.indent(quiz, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"


def _scale(versions, weight) -> str:
    for _, q in versions:
        for c in q.cells:
            if c.points:
                return _number(Fraction(weight[c.column]) / c.points)
    return "1"


def scaled_questions(exam: ExamExport) -> dict[int, str]:
    """Exam questions whose cloze weights are scaled points: index -> the factor (for the notes)."""
    out = {}
    for index in sorted({q.index for v in exam.versions for q in v.questions}):
        versions = [(v.id, q) for v in exam.versions for q in v.questions if q.index == index and q.cells]
        if versions and not (len(versions[0][1].cells) == 1 and versions[0][1].cells[0].kind in ("number", "integer")):
            weight = weights([q for _, q in versions])
            if any(weight[c.column] != c.points for _, q in versions for c in q.cells):
                out[index] = _scale(versions, weight)
    return out


def _comment(exam: ExamExport) -> str:
    lines = [f" qgen {exam.qgen}: {exam.title} ({exam.id}), {len(exam.versions)} versions.",
             " Import: Question bank > Import > Moodle XML; categories are made from the file.",
             *(f" Note: {n}" for n in exam.notes)]
    return "\n".join(lines).replace("--", "- -") + "\n"
