"""`qgen export`: Moodle XML, QTI 1.2 for Canvas and JSON, checked against the manifest and qgen's own grader."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest

from qgen import numeric
from qgen.bank import load_bank
from qgen.cli import main
from qgen.export import ExportError, export, export_folder, load_manifest, write_export
from qgen.export.markup import FIGURE_NOTE
from qgen.export.model import exam_export
from qgen.export.qti import CP_NS, QTI_NS
from qgen.grade.columns import FIXED
from qgen.grade.compare import Tolerance, judge
from qgen.grade.parse import parse_cell
from qgen.manifests import ManifestError
from qgen.publish import write_exam_set
from tests.conftest import BANKS

CLOZE = re.compile(r"\{(\d+):(NUMERICAL|MULTICHOICE|SHORTANSWER):((?:\\.|[^\\}])*)\}")
Q = f"{{{QTI_NS}}}"


def _generate(bank_path: Path, out: Path, versions: int) -> Path:
    write_exam_set(load_bank(bank_path), [str(v) for v in range(1, versions + 1)], out, make_pdf=False)
    return out


@pytest.fixture(scope="module")
def midterm(tmp_path_factory) -> Path:
    return _generate(BANKS / "midterm.yaml", tmp_path_factory.mktemp("mid") / "exam", 3)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    return _generate(BANKS / "seeds.yaml", tmp_path_factory.mktemp("seeds") / "exam", 1)


@pytest.fixture(scope="module", params=["midterm", "seeds"])
def exam_dir(request, midterm, seeds) -> Path:
    return {"midterm": midterm, "seeds": seeds}[request.param]


def _manifest_parts(manifest):
    """(version, question index, part record) of every auto-gradable part, in exam order."""
    return [(v["version"], q["index"], p) for v in manifest["versions"] for q in v["questions"]
            for p in q["parts"] if p["kind"] not in ("text", "expression") and p["points"]]


def _flat(value):
    return [x for v in value for x in _flat(v)] if isinstance(value, list) else [value]


def _tolerance(part) -> Tolerance:
    places = int(part.get("places", 4))
    return Tolerance.from_spec(part["tolerance"], places) if part.get("tolerance") else Tolerance.for_places(places)


def _entry_part(part, i, value):
    """The manifest part reduced to its i-th entry (with its accepted alternatives), for `judge`."""
    accept = [_flat(a)[i] for a in part.get("accept", ()) if len(_flat(a)) == len(_flat(part["answer"]))]
    return {"kind": "number", "answer": value, "places": part.get("places", 4), "accept": accept}


def _decimal(x: Fraction) -> str:
    """A finite decimal fraction as exact decimal text."""
    with localcontext() as ctx:
        ctx.prec = 80
        return format(Decimal(x.numerator) / Decimal(x.denominator), "f")


def _check_number(part, i, value_text, tol_text):
    """value is the key as the paper prints it (the exam's decimals) and right by qgen's judge; the accepted
    interval value ± tol holds the exact key and everything qgen accepts; value ± 2·tol is wrong (tol > 0)."""
    entry = _entry_part(part, i, _flat(part["answer"])[i])
    rule = _tolerance(part)
    value, tol = Fraction(value_text), Fraction(tol_text)
    exact = Fraction(repr(float(_flat(part["answer"])[i])))
    if part["kind"] != "integer":
        places = int(part.get("places", 4))
        assert value_text == numeric.decimal_str(numeric.exact(_flat(part["answer"])[i]), places).lstrip("-") \
            or value_text == numeric.decimal_str(numeric.exact(_flat(part["answer"])[i]), places), value_text
        assert len(value_text.partition(".")[2]) <= places + 2  # not the float's 17 digits
        qgen_tol = max(rule.atol, rule.rtol * abs(exact))
        assert value - tol <= exact - qgen_tol and exact + qgen_tol <= value + tol, (part["id"], value_text, tol_text)
    assert judge(entry, value, rule).credit == 1, (part["id"], value_text, tol_text)
    if tol:
        for d in (2 * tol, -2 * tol):
            assert judge({**entry, "accept": []}, value + d, rule).credit == 0, (part["id"], value_text, tol_text)


# -- Moodle ------------------------------------------------------------------------------------
def _moodle(exam_dir):
    result = export(load_manifest(exam_dir), "moodle")
    return result, ET.fromstring(result.data.decode("utf-8"))


def test_moodle_xml_is_well_formed_with_a_quiz_root(exam_dir):
    _, root = _moodle(exam_dir)
    assert root.tag == "quiz"


def test_moodle_has_a_category_per_question_then_one_question_per_version(midterm):
    _, root = _moodle(midterm)
    kinds = [q.get("type") for q in root.findall("question")]
    assert kinds == [k for t in ("cloze", "numerical", "cloze", "cloze", "cloze") for k in ("category", t, t, t)]


def test_moodle_category_paths_name_exam_and_question(midterm):
    _, root = _moodle(midterm)
    paths = [q.findtext("category/text") for q in root.findall("question[@type='category']")]
    assert paths[2] == "$course$/top/ml-midterm-2026-nn/Q3 A network by hand: forward pass and backpropagation"


def test_moodle_question_names_are_unique(exam_dir):
    _, root = _moodle(exam_dir)
    names = [q.findtext("name/text") for q in root.findall("question") if q.get("type") != "category"]
    assert len(names) == len(set(names))


def test_moodle_questions_hold_every_auto_gradable_cell_with_value_and_tolerance(exam_dir):
    manifest = load_manifest(exam_dir)
    _, root = _moodle(exam_dir)
    cells = []
    for q in root.findall("question"):
        if q.get("type") == "cloze":
            cells += [(m.group(2), m.group(3)) for m in CLOZE.finditer(q.findtext("questiontext/text"))]
        elif q.get("type") == "numerical":
            answer = q.find("answer")
            cells.append(("NUMERICAL", f"={answer.findtext('text')}:{answer.findtext('tolerance')}"))
    by_question = sorted(_manifest_parts(manifest), key=lambda vqp: vqp[1])  # Moodle: category by category
    expected = [(p, i) for _, _, p in by_question for i in range(len(_flat(p["answer"]))
                                                                 if p["kind"] in ("vector", "matrix") else 1)]
    assert len(cells) == len(expected)
    for (kind, body), (part, i) in zip(cells, expected):
        if part["kind"] in ("number", "vector", "matrix", "integer"):
            assert kind == "NUMERICAL"
            value, tol = body.split("~")[0].removeprefix("=").split(":")
            _check_number(part, i, value, tol)
        elif part["kind"] == "label":
            right = [o.removeprefix("=") for o in body.split("~") if o.startswith("=")]
            assert kind == "MULTICHOICE" and judge(part, parse_cell(right[0], "label")).credit == 1
        else:
            spellings = [s.removeprefix("=") for s in body.split("~")]
            assert kind == "SHORTANSWER" and {parse_cell(s, "shape") for s in spellings} == {tuple(part["answer"])}


def test_moodle_cloze_weights_are_proportional_to_points(midterm):
    manifest = load_manifest(midterm)
    _, root = _moodle(midterm)
    clozes = [q for q in root.findall("question") if q.get("type") == "cloze"]
    first = clozes[0].findtext("questiontext/text")  # Q1 version 1: vectors of 2 entries, 1 or 2 points each
    weights = [int(m.group(1)) for m in CLOZE.finditer(first)]
    points = [Fraction(p["points"]) / len(p["answer"]) for p in manifest["versions"][0]["questions"][0]["parts"]
              if p["kind"] == "vector" for _ in p["answer"]]
    assert len({Fraction(w) / p for w, p in zip(weights, points)}) == 1


def test_moodle_numerical_question_has_its_points_as_default_grade(tmp_path):
    bank = tmp_path / "bank.yaml"
    bank.write_text("exam:\n  id: one\n  title: One\nquestions:\n  - family: chain-rule\n    parts: [value]\n"
                    "    points: {value: 3}\n", encoding="utf-8")
    _, root = _moodle(_generate(bank, tmp_path / "out", 2))
    numerical = root.findall("question[@type='numerical']")
    assert len(numerical) == 2 and numerical[0].findtext("defaultgrade") == "3"


def test_moodle_general_feedback_holds_the_worked_solution(midterm):
    _, root = _moodle(midterm)
    feedback = root.find("question[@type='cloze']").findtext("generalfeedback/text")
    assert "$$" in feedback and "(b)" in feedback


def test_moodle_text_tells_which_parts_are_left_out(midterm):
    _, root = _moodle(midterm)
    q2 = next(q for q in root.findall("question") if "Q2 v1" in (q.findtext("name/text") or ""))
    assert "Not included here: parts (a), (b)" in q2.findtext("questiontext/text")


# -- QTI / Canvas ------------------------------------------------------------------------------
def _qti(exam_dir):
    result = export(load_manifest(exam_dir), "qti")
    return result, zipfile.ZipFile(io.BytesIO(result.data))


def test_qti_manifest_references_resolve_to_files_and_resources(exam_dir):
    _, zf = _qti(exam_dir)
    names = set(zf.namelist())
    manifest = ET.fromstring(zf.read("imsmanifest.xml"))
    resources = manifest.findall(f"{{{CP_NS}}}resources/{{{CP_NS}}}resource")
    ids = {r.get("identifier") for r in resources}
    hrefs = {f.get("href") for r in resources for f in r.findall(f"{{{CP_NS}}}file")}
    deps = {d.get("identifierref") for r in resources for d in r.findall(f"{{{CP_NS}}}dependency")}
    assert hrefs == names - {"imsmanifest.xml"} and deps <= ids


def test_qti_has_one_assessment_per_version(midterm):
    _, zf = _qti(midterm)
    manifest = ET.fromstring(zf.read("imsmanifest.xml"))
    qti = [r for r in manifest.iter(f"{{{CP_NS}}}resource") if r.get("type") == "imsqti_xmlv1p2"]
    assert len(qti) == 3


def _assessments(zf):
    manifest = ET.fromstring(zf.read("imsmanifest.xml"))
    for r in manifest.iter(f"{{{CP_NS}}}resource"):
        if r.get("type") == "imsqti_xmlv1p2":
            yield ET.fromstring(zf.read(r.find(f"{{{CP_NS}}}file").get("href")))


def _meta(item, label):
    for f in item.iter(f"{Q}qtimetadatafield"):
        if f.findtext(f"{Q}fieldlabel") == label:
            return f.findtext(f"{Q}fieldentry")
    return None


def test_qti_items_have_canvas_question_types_and_ranges_from_the_tolerance(exam_dir):
    manifest = load_manifest(exam_dir)
    _, zf = _qti(exam_dir)
    for version, root in zip(manifest["versions"], _assessments(zf)):
        assert root.tag == f"{Q}questestinterop"
        items = [i for i in root.iter(f"{Q}item") if _meta(i, "question_type") != "text_only_question"]
        expected = [(p, i) for _, _, p in _manifest_parts({"versions": [version]})
                    for i in range(len(_flat(p["answer"])) if p["kind"] in ("vector", "matrix") else 1)]
        assert len(items) == len(expected)
        for item, (part, i) in zip(items, expected):
            qtype = _meta(item, "question_type")
            if part["kind"] in ("number", "vector", "matrix", "integer"):
                assert qtype == "numerical_question"
                cond = item.find(f"{Q}resprocessing/{Q}respcondition/{Q}conditionvar/{Q}or")
                value = cond.findtext(f"{Q}varequal")
                low, high = (Fraction(cond.findtext(f"{Q}and/{Q}{t}")) for t in ("vargte", "varlte"))
                assert low + high == 2 * Fraction(value)
                _check_number(part, i, value, _decimal(high - Fraction(value)))
            elif part["kind"] == "label":
                assert qtype == "multiple_choice_question"
                right = item.findtext(f"{Q}resprocessing/{Q}respcondition/{Q}conditionvar/{Q}varequal")
                label = next(r for r in item.iter(f"{Q}response_label") if r.get("ident") == right)
                assert judge(part, label.findtext(f"{Q}material/{Q}mattext")).credit == 1
            else:
                assert qtype == "short_answer_question"
                spellings = [v.text for v in item.iter(f"{Q}varequal")]
                assert {parse_cell(s, "shape") for s in spellings} == {tuple(part["answer"])}


def test_qti_points_add_up_to_the_auto_gradable_points(midterm):
    manifest = load_manifest(midterm)
    _, zf = _qti(midterm)
    root = next(_assessments(zf))
    total = sum(Fraction(_meta(i, "points_possible")) for i in root.iter(f"{Q}item"))
    assert total == sum(Fraction(p["points"]) for _, _, p in _manifest_parts({"versions": manifest["versions"][:1]}))


def test_qti_each_question_starts_with_its_statement_as_text_only(midterm):
    _, zf = _qti(midterm)
    first = next(next(_assessments(zf)).iter(f"{Q}item"))
    assert _meta(first, "question_type") == "text_only_question" and "Question 1" in first.findtext(f".//{Q}mattext")


def test_qti_zip_is_the_same_bytes_every_time(midterm):
    assert export(load_manifest(midterm), "qti").data == export(load_manifest(midterm), "qti").data


# -- JSON ------------------------------------------------------------------------------------
def test_json_round_trips_and_states_its_schema(exam_dir):
    data = json.loads(export(load_manifest(exam_dir), "json").data)
    assert data["schema"] == "qgen-export" and data["schema_version"] == 1


def test_json_cells_are_the_answer_template_columns(exam_dir):
    data = json.loads(export(load_manifest(exam_dir), "json").data)
    with open(exam_dir / "answers-template.csv", encoding="utf-8") as f:
        header = next(csv.reader(f))
    columns = {c["column"] for v in data["versions"] for q in v["questions"] for p in q["parts"] for c in p["cells"]}
    gradable = {c for c in header[len(FIXED):]}
    assert columns <= gradable


def test_json_answers_are_exactly_the_manifest_answers(exam_dir):
    manifest = load_manifest(exam_dir)
    data = json.loads(export(manifest, "json").data)
    for mv, v in zip(manifest["versions"], data["versions"]):
        for mq, q in zip(mv["questions"], v["questions"]):
            for mp, p in zip(mq["parts"], q["parts"]):
                if p["cells"] and mp["kind"] in ("number", "vector", "matrix"):
                    assert [Fraction(c["answer"]) for c in p["cells"]] == \
                        [Fraction(repr(float(x))) for x in _flat(mp["answer"])]
                    assert [c["answer_float"] for c in p["cells"]] == _flat(mp["answer"])


def test_json_lists_every_part_and_why_it_is_left_out(midterm):
    data = json.loads(export(load_manifest(midterm), "json").data)
    q2 = data["versions"][0]["questions"][1]
    assert [(p["id"], p["auto"], bool(p["omitted"])) for p in q2["parts"]] == [
        ("chain", False, True), ("derivative", False, True), ("value", True, False)]


# -- statements ---------------------------------------------------------------------------------
def test_every_family_places_each_part_once(seeds):
    exam = exam_export(load_manifest(seeds))
    for q in exam.versions[0].questions:
        placed = [b.part for b in q.blocks if b.kind == "part"]
        assert placed == [p.id for p in q.parts], q.family


def test_statements_carry_their_numbers(seeds):
    exam = exam_export(load_manifest(seeds))
    mlp = exam.versions[0].questions[0]
    assert r"\begin{bmatrix}" in mlp.statement_html() and "learning rate" in mlp.statement_html()


def test_a_needed_figure_is_a_note_and_an_illustration_is_left_out(seeds):
    exam = exam_export(load_manifest(seeds))
    by_family = {q.family: q for q in exam.versions[0].questions}
    forward_html = "\n".join(b.html for b in by_family["graph-forward"].blocks)
    mlp_html = "\n".join(b.html for b in by_family["mlp-backprop"].blocks)
    assert FIGURE_NOTE in forward_html and FIGURE_NOTE not in mlp_html


def test_notes_warn_about_a_needed_figure(seeds):
    assert any("needs a figure" in n for n in exam_export(load_manifest(seeds)).notes)


def test_no_latex_is_left_unconverted(midterm):
    exam = exam_export(load_manifest(midterm))
    assert not [w for v in exam.versions for q in v.questions for w in q.warnings]


def test_a_notation_override_the_manifest_lost_is_warned_about(seeds):
    exam = exam_export(load_manifest(seeds))  # seed 003 Q1 writes the step size eta over bias-row's lambda
    warned = {q.family for q in exam.versions[0].questions if q.warnings}
    assert warned == {"logistic-sgd"} and any("notation overrides" in n for n in exam.notes)


# -- escaping ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def odd(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("odd")
    bank = tmp / "bank.yaml"
    bank.write_text(
        "exam:\n  id: 'Q.A-2026'\n  title: 'Prüfung <Q&A> \"Ünïcødé\" — σ ≤ 5%'\n  course: 'R&D <Lab> Zürich'\n"
        "questions:\n  - family: chain-rule\n    title: 'Ketten & <regel> / café'\n    parts: [value]\n"
        "  - family: mlp-backprop\n    title: 'Net & <net>'\n", encoding="utf-8")
    return _generate(bank, tmp / "out", 2)


def test_odd_titles_survive_in_moodle(odd):
    _, root = _moodle(odd)
    paths = [q.findtext("category/text") for q in root.findall("question[@type='category']")]
    assert paths[0] == "$course$/top/Q.A-2026/Q1 Ketten & <regel> // café"


def test_odd_titles_are_escaped_in_moodle_html(odd):
    _, root = _moodle(odd)
    info = root.find("question[@type='category']").findtext("info/text")
    assert "Prüfung &lt;Q&amp;A&gt;" in info and "Ketten &amp; &lt;regel&gt;" in info


def test_odd_titles_survive_in_qti(odd):
    _, zf = _qti(odd)
    root = next(_assessments(zf))
    assessment = root.find(f"{Q}assessment")
    statement = next(root.iter(f"{Q}item")).findtext(f".//{Q}mattext")
    assert assessment.get("title").startswith('Prüfung <Q&A> "Ünïcødé" — σ ≤ 5%') and \
        "Ketten &amp; &lt;regel&gt; / café" in statement


def test_odd_titles_survive_in_json(odd):
    data = json.loads(export(load_manifest(odd), "json").data)
    assert data["exam"]["course"] == "R&D <Lab> Zürich" and data["versions"][0]["questions"][0]["title"] == \
        "Ketten & <regel> / café"


def test_odd_exam_id_gives_a_safe_file_name(odd):
    record = load_manifest(odd)
    record["exam"]["id"] = "Q&A <2026>"  # a bank refuses such an id; a hand-edited manifest may still hold one
    assert export(record, "moodle").name == "Q-A-2026.moodle.xml"


# -- errors and files ------------------------------------------------------------------------------
def test_no_manifest_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(ManifestError) as e:
        load_manifest(tmp_path)
    assert str(tmp_path / "manifest.json") in str(e.value) and "qgen generate" in str(e.value)


def test_unknown_format_is_an_error_listing_the_formats(midterm):
    with pytest.raises(ExportError) as e:
        export(load_manifest(midterm), "pdf")
    assert "json, moodle, qti" in str(e.value)


@pytest.fixture(scope="module")
def manual_only(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("manual")
    bank = tmp / "bank.yaml"
    bank.write_text("exam:\n  id: talk\nquestions:\n  - family: chain-rule\n    parts: [chain, derivative]\n",
                    encoding="utf-8")
    return _generate(bank, tmp / "out", 1)


@pytest.mark.parametrize("fmt", ["moodle", "qti"])
def test_nothing_auto_gradable_is_an_error_for_an_lms(manual_only, fmt):
    with pytest.raises(ExportError) as e:
        export(load_manifest(manual_only), fmt)
    assert "manifest.json" in str(e.value) and "--format json" in str(e.value)


def test_nothing_auto_gradable_still_exports_json(manual_only):
    data = json.loads(export(load_manifest(manual_only), "json").data)
    assert [p["auto"] for p in data["versions"][0]["questions"][0]["parts"]] == [False, False]


def test_write_export_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "x.xml"
    write_export(b"old", target)
    write_export(b"new", target)
    assert target.read_bytes() == b"new" and sorted(p.name for p in target.parent.iterdir()) == ["x.xml"]


def test_export_folder_writes_under_export_by_default(midterm):
    path, result = export_folder(midterm, "json")
    assert path == midterm / "export" / "ml-midterm-2026-nn.export.json" and path.read_bytes() == result.data


# -- command line ----------------------------------------------------------------------------------
def test_cli_export_has_help(runner):
    result = runner.invoke(main, ["export", "--help"])
    assert result.exit_code == 0 and "--format" in result.output


@pytest.mark.parametrize("fmt,suffix", [("moodle", ".moodle.xml"), ("qti", ".qti.zip"), ("json", ".export.json")])
def test_cli_export_writes_the_file_and_says_so(runner, midterm, tmp_path, fmt, suffix):
    out = tmp_path / f"exam{suffix}"
    result = runner.invoke(main, ["export", str(midterm), "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0 and f"wrote {out}" in result.output and out.stat().st_size > 0


def test_cli_export_prints_what_is_left_out(runner, midterm, tmp_path):
    result = runner.invoke(main, ["export", str(midterm), "--format", "moodle", "--out", str(tmp_path / "m.xml")])
    assert "note: Q2 (The chain rule): left out derivative: a formula" in result.output


def test_cli_export_without_manifest_is_one_clear_line(runner, tmp_path):
    result = runner.invoke(main, ["export", str(tmp_path), "--format", "qti"])
    assert result.exit_code == 1 and "no manifest" in result.output and "Traceback" not in result.output


def test_cli_export_needs_a_format(runner, midterm):
    result = runner.invoke(main, ["export", str(midterm)])
    assert result.exit_code == 2 and "--format" in result.output


def test_json_tolerance_rule_is_decimal_text(midterm):
    data = json.loads(export(load_manifest(midterm), "json").data)
    part = data["versions"][0]["questions"][2]["parts"][2]  # Q3 z1, 4 decimals
    assert part["tolerance"] == {"atol": "0.000051", "rtol": "0.01"}
