"""QTI 1.2 for Canvas (classic quizzes): a zip with one quiz per version (pure: returns bytes).

Canvas draws a random question group item by item, so the parts of one exam question could
not stay together (and with their statement) in a group. The structure is the paper's
instead: one quiz (QTI assessment) per version, to be assigned to the students who sit that
version. In a quiz, each exam question is a `text_only_question` holding its statement,
followed by one item per answer box, in exam order: a `numerical_question` per number (a
vector or matrix: one per entry, as answers-template.csv has a column per entry) with the
accepted range [value − tolerance, value + tolerance] as `vargte`/`varlte`, a
`multiple_choice_question` per label, a `short_answer_question` per shape (its usual
spellings) and a `numerical_question` with a zero margin per whole number. Data given
between parts (an interlude) is one more text-only item where the exam prints it.

The zip holds `imsmanifest.xml`, and per quiz `<id>/<id>.xml` (the assessment) and
`<id>/assessment_meta.xml` (Canvas's quiz settings: title, points, unpublished); the figures are
`web_resources/qgen-figures/<name>.png` (webcontent resources of the manifest), referred to from item
HTML as `$IMS-CC-FILEBASE$/qgen-figures/<name>.png`. Each answer item's general feedback is its
part's worked solution.
"""

from __future__ import annotations

import hashlib
import html
import io
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal, localcontext
from fractions import Fraction

from qgen.export.model import (
    FIGURE_SRC,
    Cell,
    ExamExport,
    PartExport,
    QuestionExport,
    VersionExport,
)
from qgen.export.moodle import entry_label, omitted_html, part_worked_html

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_DATE = (2000, 1, 1, 0, 0, 0)  # fixed zip timestamps: the same manifest gives the same bytes
_SINGLE = {"ident": "response1", "rcardinality": "Single"}
FILES = "web_resources/qgen-figures/"  # where the zip keeps the figures
FILEBASE = "$IMS-CC-FILEBASE$/qgen-figures/"  # how item HTML refers to them (Canvas's form)


def ident(*parts: str) -> str:
    """A stable identifier (an XML name) from text: 'g' and 24 hex digits."""
    return "g" + hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:24]


def bounds(value: str, tol: Decimal) -> tuple[str, str]:
    """The accepted range of a number, exact decimal text: ('0.118', '0.1204')."""
    with localcontext() as ctx:
        ctx.prec = 80
        v = Decimal(value)
        return _plain(v - tol), _plain(v + tol)


def _plain(d: Decimal) -> str:
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def _points(x: Fraction) -> str:
    return _plain(Decimal(x.numerator) / Decimal(x.denominator)) if x.denominator != 1 else str(x.numerator)


def split_points(total: Fraction, n: int) -> list[str]:
    """`total` points shared by n boxes in hundredths that add up exactly (Canvas keeps 2 decimals).

    >>> split_points(Fraction(2), 3)
    ['0.67', '0.67', '0.66']
    """
    cents = total * 100
    if cents.denominator != 1:  # not a whole number of hundredths: share as evenly as decimals allow
        return [_points(total / n)] * n
    base, extra = divmod(int(cents), n)
    return [_points(Fraction(base + (1 if i < extra else 0), 100)) for i in range(n)]


def _field(parent: ET.Element, label: str, entry: str) -> None:
    f = ET.SubElement(parent, "qtimetadatafield")
    ET.SubElement(f, "fieldlabel").text = label
    ET.SubElement(f, "fieldentry").text = entry


def _item(item_id: str, title: str, qtype: str, points: str, html_text: str, answer_ids: list[str]) -> ET.Element:
    item = ET.Element("item", {"ident": item_id, "title": title})
    meta = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
    _field(meta, "question_type", qtype)
    _field(meta, "points_possible", points)
    _field(meta, "original_answer_ids", ",".join(answer_ids))
    _field(meta, "assessment_question_identifierref", item_id + "_ref")
    pres = ET.SubElement(item, "presentation")
    ET.SubElement(ET.SubElement(pres, "material"), "mattext", {"texttype": "text/html"}).text = html_text
    return item


def _scoring(item: ET.Element) -> ET.Element:
    proc = ET.SubElement(item, "resprocessing")
    ET.SubElement(ET.SubElement(proc, "outcomes"), "decvar",
                  {"maxvalue": "100", "minvalue": "0", "varname": "SCORE", "vartype": "Decimal"})
    return proc


def _full_credit(proc: ET.Element) -> ET.Element:
    cond = ET.SubElement(proc, "respcondition", {"continue": "No"})
    var = ET.SubElement(cond, "conditionvar")
    ET.SubElement(cond, "setvar", {"action": "Set", "varname": "SCORE"}).text = "100"
    return var


def text_item(item_id: str, title: str, html_text: str) -> ET.Element:
    """A text-only item: a statement or data, no answer."""
    return _item(item_id, title, "text_only_question", "0", html_text, [])


def general_feedback(item: ET.Element, html_text: str) -> None:
    """Canvas's general feedback of an item (shown after the answer whatever it is): a respcondition on
    <other/> that displays the itemfeedback `general_fb`, first in resprocessing, as Canvas exports it."""
    if not html_text:
        return
    proc = item.find("resprocessing")
    cond = ET.Element("respcondition", {"continue": "Yes"})
    ET.SubElement(ET.SubElement(cond, "conditionvar"), "other")
    ET.SubElement(cond, "displayfeedback", {"feedbacktype": "Response", "linkrefid": "general_fb"})
    proc.insert(1, cond)  # after <outcomes>
    fb = ET.SubElement(item, "itemfeedback", {"ident": "general_fb"})
    ET.SubElement(ET.SubElement(ET.SubElement(fb, "flow_mat"), "material"), "mattext",
                  {"texttype": "text/html"}).text = html_text


def cell_item(item_id: str, title: str, cell: Cell, html_text: str, points: str | None = None,
              feedback: str = "") -> ET.Element:
    """The item of one answer box (worth `points`, default the cell's share of its part; `feedback`: the
    general feedback, the part's worked solution)."""
    item = _cell_item(item_id, title, cell, html_text, points)
    general_feedback(item, feedback)
    return item


def _cell_item(item_id: str, title: str, cell: Cell, html_text: str, points: str | None = None) -> ET.Element:
    points = points or _points(cell.points)
    if cell.kind in ("number", "integer"):
        answers = cell.lms_answers
        ids = [f"{item_id}_a{i}" for i in range(1, len(answers) + 1)]
        item = _item(item_id, title, "numerical_question", points, html_text, ids)
        resp = ET.SubElement(item.find("presentation"), "response_str", _SINGLE)
        ET.SubElement(ET.SubElement(resp, "render_fib", {"fibtype": "Decimal"}), "response_label", {"ident": "answer1"})
        proc = _scoring(item)
        for value, tol in answers:
            low, high = bounds(value, tol)
            either = ET.SubElement(_full_credit(proc), "or")
            ET.SubElement(either, "varequal", {"respident": "response1"}).text = value
            both = ET.SubElement(either, "and")
            ET.SubElement(both, "vargte", {"respident": "response1"}).text = low
            ET.SubElement(both, "varlte", {"respident": "response1"}).text = high
        return item
    if cell.kind == "label" and cell.choices:
        ids = [f"{item_id}_c{i}" for i in range(1, len(cell.choices) + 1)]
        item = _item(item_id, title, "multiple_choice_question", points, html_text, ids)
        resp = ET.SubElement(item.find("presentation"), "response_lid", _SINGLE)
        render = ET.SubElement(resp, "render_choice")
        for cid, choice in zip(ids, cell.choices):
            label = ET.SubElement(render, "response_label", {"ident": cid})
            ET.SubElement(ET.SubElement(label, "material"), "mattext", {"texttype": "text/plain"}).text = choice
        right = ids[cell.choices.index(cell.value)]
        ET.SubElement(_full_credit(_scoring(item)), "varequal", {"respident": "response1"}).text = right
        return item
    spellings = cell.choices or (cell.value,)
    ids = [f"{item_id}_s{i}" for i in range(1, len(spellings) + 1)]
    item = _item(item_id, title, "short_answer_question", points, html_text, ids)
    resp = ET.SubElement(item.find("presentation"), "response_str", {"ident": "response1", "rcardinality": "Single"})
    ET.SubElement(ET.SubElement(resp, "render_fib"), "response_label", {"ident": "answer1", "rshuffle": "No"})
    var = _full_credit(_scoring(item))
    for s in spellings:
        ET.SubElement(var, "varequal", {"respident": "response1"}).text = s
    return item


def _cell_html(q: QuestionExport, part: PartExport, cell: Cell, n: int, heading: str, version: str = "") -> str:
    out = [f"<p><strong>{heading}</strong></p>"] if heading else []
    # the box's column (and version) in its text, so a Student Analysis report names its column (qgen.grade.lms)
    tag = f" <small>(column {cell.column}{f', version {html.escape(version)}' if version else ''})</small>"
    out.append(f"<p><strong>Question {q.index} ({part.letter})</strong>{tag} {part.prompt_html}</p>")
    if len(part.cells) > 1:
        where = (f"row {cell.entry.split(',')[0]}, column {cell.entry.split(',')[1]}" if part.kind == "matrix"
                 else f"entry {n} of {len(part.cells)}")
        sym = f" {entry_label(cell, n).removesuffix(' =')}" if cell.symbol else ""
        out.append(f"<p>Answer box: {where}{sym}</p>")
    if cell.kind == "shape":
        out.append("<p><small>Type rows x columns, e.g. 3x2.</small></p>")
    return "\n".join(out)


def question_items(exam: ExamExport, v: VersionExport, q: QuestionExport) -> list[ET.Element]:
    """The items of one exam question in one quiz: its statement, then its boxes (and interludes)."""
    base = ident(exam.id, v.id, str(q.index))
    points = _points(q.auto_points)
    intro = [f"<h3>Question {q.index}: {html.escape(q.title)} ({points} points)</h3>", q.statement_html(),
             omitted_html(q), q.precision_html()]
    items = [text_item(base + "_0", f"Q{q.index}: {q.title}"[:250], "\n".join(x for x in intro if x))]
    heading, n = "", 0
    started = False
    for b in q.blocks:
        if b.kind == "heading":
            heading = b.html
        elif b.kind == "text":
            if b.before_parts and not started:
                continue  # in the statement item already
            n += 1
            items.append(text_item(f"{base}_{n}", f"Q{q.index}: data", b.html))
        else:
            started = True
            part = q.part(b.part)
            shares = split_points(part.points, len(part.cells)) if part.cells else []
            for i, (cell, share) in enumerate(zip(part.cells, shares), start=1):
                n += 1
                items.append(cell_item(f"{base}_{n}", f"Q{q.index}({part.letter}) {cell.column}"[:250], cell,
                                       _cell_html(q, part, cell, i, heading, v.id), share, part_worked_html(part)))
                heading = ""
    return items


def assessment_xml(exam: ExamExport, v: VersionExport) -> str:
    """The QTI assessment of one version."""
    root = ET.Element("questestinterop", {
        "xmlns": QTI_NS, "xmlns:xsi": XSI_NS,
        "xsi:schemaLocation": f"{QTI_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd"})
    assessment = ET.SubElement(root, "assessment", {"ident": ident(exam.id, v.id), "title": quiz_title(exam, v)})
    _field(ET.SubElement(assessment, "qtimetadata"), "cc_maxattempts", "1")
    section = ET.SubElement(assessment, "section", {"ident": "root_section"})
    for q in v.questions:
        if q.cells:
            section.extend(question_items(exam, v, q))
    return _xml(root)


def quiz_title(exam: ExamExport, v: VersionExport) -> str:
    return f"{exam.title or exam.id} \u2014 version {v.id}"


def assessment_meta(exam: ExamExport, v: VersionExport) -> str:
    """Canvas's settings of one quiz: title, description, points; unpublished, one attempt."""
    quiz_id = ident(exam.id, v.id)
    root = ET.Element("quiz", {"identifier": quiz_id, "xmlns": CANVAS_NS, "xmlns:xsi": XSI_NS,
                               "xsi:schemaLocation": f"{CANVAS_NS} https://canvas.instructure.com/xsd/cccv1p0.xsd"})
    points = _points(v.auto_points)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in exam.notes)
    course = f"{html.escape(exam.course)} \u2014 " if exam.course else ""
    description = (f"<p>{course}version {html.escape(v.id)} of {html.escape(exam.title or exam.id)} "
                   "(made by qgen from manifest.json).</p>")
    if notes:
        description += f"<p>Not in this quiz, or to check:</p><ul>{notes}</ul>"
    for tag, text in (("title", quiz_title(exam, v)), ("description", description), ("shuffle_answers", "false"),
                      ("scoring_policy", "keep_highest"), ("quiz_type", "assignment"), ("points_possible", points),
                      ("show_correct_answers", "false"), ("allowed_attempts", "1"),
                      ("one_question_at_a_time", "false"), ("cant_go_back", "false"), ("available", "false")):
        ET.SubElement(root, tag).text = text
    assignment = ET.SubElement(root, "assignment", {"identifier": quiz_id + "_assignment"})
    for tag, text in (("title", quiz_title(exam, v)), ("workflow_state", "unpublished"),
                      ("quiz_identifierref", quiz_id), ("points_possible", points), ("grading_type", "points"),
                      ("submission_types", "online_quiz")):
        ET.SubElement(assignment, tag).text = text
    return _xml(root)


def imsmanifest(exam: ExamExport) -> str:
    """The package manifest: one QTI resource per quiz, depending on its assessment_meta.xml."""
    root = ET.Element("manifest", {
        "identifier": ident(exam.id, "manifest"), "xmlns": CP_NS, "xmlns:xsi": XSI_NS,
        "xsi:schemaLocation": f"{CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd"})
    meta = ET.SubElement(root, "metadata")
    ET.SubElement(meta, "schema").text = "IMS Content"
    ET.SubElement(meta, "schemaversion").text = "1.1.3"
    ET.SubElement(root, "organizations")
    resources = ET.SubElement(root, "resources")
    for v in exam.versions:
        quiz_id = ident(exam.id, v.id)
        res = ET.SubElement(resources, "resource", {"identifier": quiz_id, "type": "imsqti_xmlv1p2"})
        ET.SubElement(res, "file", {"href": f"{quiz_id}/{quiz_id}.xml"})
        ET.SubElement(res, "dependency", {"identifierref": quiz_id + "_meta"})
        meta_res = ET.SubElement(resources, "resource", {
            "identifier": quiz_id + "_meta", "type": "associatedcontent/imscc_xmlv1p1/learning-application-resource",
            "href": f"{quiz_id}/assessment_meta.xml"})
        ET.SubElement(meta_res, "file", {"href": f"{quiz_id}/assessment_meta.xml"})
    for name, _ in exam.images:
        res = ET.SubElement(resources, "resource", {"identifier": ident(exam.id, "file", name), "type": "webcontent",
                                                     "href": FILES + name})
        ET.SubElement(res, "file", {"href": FILES + name})
    return _xml(root)


def qti_files(exam: ExamExport) -> dict[str, str]:
    """Every file of the package: path in the zip -> XML text."""
    files = {"imsmanifest.xml": imsmanifest(exam)}
    for v in exam.versions:
        quiz_id = ident(exam.id, v.id)
        files[f"{quiz_id}/{quiz_id}.xml"] = FILEBASE.join(assessment_xml(exam, v).split(FIGURE_SRC))
        files[f"{quiz_id}/assessment_meta.xml"] = assessment_meta(exam, v)
    return files


def qti_zip(exam: ExamExport) -> bytes:
    """The QTI package as zip bytes (the same bytes for the same manifest): XML files, then the figures."""
    buffer = io.BytesIO()
    files = [(name, text.encode("utf-8")) for name, text in qti_files(exam).items()]
    files += [(FILES + name, data) for name, data in exam.images]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buffer.getvalue()


def _xml(root: ET.Element) -> str:
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
