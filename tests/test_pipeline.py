"""The PDF pipeline at course scale (issue 15): formats, figures drawn once, papers compiled once,
page labels and fields put on afterwards. Checked from the PDFs (pikepdf objects, pdftotext)."""

from __future__ import annotations

import pikepdf
import pytest

from qgen.errors import RenderError
from qgen.render import batch, formats, pdf, personal
from qgen.render.exam import assemble, preamble, tables
from qgen.render.labels import Labels
from tests.conftest import needs_latex, needs_pdftotext

FIGURE = r"\qgenfigure{\begin{tikzpicture}\draw[->] (0,0) -- (2,1) node[right] {$x_1$};\end{tikzpicture}}"


def _head() -> str:
    return preamble({"title": "T", "course": "C", "exam_id": "e"}, key=False)


def _job(tmp_path, name, lines):
    body = "\n".join([rf"\qgenbeginpaper{{{name}}}{{1}}", *lines, r"\qgenendquestions", r"\qgenendpaper"])
    return batch.PaperJob(name=name, kind="exam", body=body, dest=tmp_path / f"{name}.pdf")


def _forms(path) -> int:
    """Form XObjects in a PDF that draw a picture (TikZ's figure; not the page-label stamps)."""
    with pikepdf.open(path) as doc:
        return sum(1 for obj in doc.objects if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Form"
                   and b" l" in obj.read_bytes())


@needs_latex
@pytest.mark.latex
def test_a_format_is_dumped_once_then_taken_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("QGEN_NO_CACHE", raising=False)
    head = _head()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = formats.prepare(head, tmp_path / "a", "exam", pdf._Running(), 120)
    assert first and (tmp_path / "a" / f"{first}.fmt").is_file()
    cached = list((tmp_path / "cache" / "formats").glob("*.fmt"))
    assert len(cached) == 1
    again = formats.prepare(head, tmp_path / "b", "exam", pdf._Running(), 120)
    assert again == first and (tmp_path / "b" / f"{again}.fmt").stat().st_ino == cached[0].stat().st_ino
    assert formats.prepare(head + "\n% another preamble", tmp_path / "b", "exam", pdf._Running(), 120) != first


@needs_latex
@pytest.mark.latex
def test_a_preamble_that_cannot_be_dumped_runs_without_a_format(tmp_path, monkeypatch):
    monkeypatch.setenv("QGEN_NO_CACHE", "1")
    assert formats.prepare(_head() + "\n\\nosuchmacro\n", tmp_path, "exam", pdf._Running(), 120) is None


@needs_latex
@pytest.mark.latex
def test_a_figure_is_drawn_once_per_run_and_once_per_paper_in_its_own_tex(tmp_path):
    jobs = [_job(tmp_path, f"exam-{i}", [f"Paper {i}.", FIGURE, "And again:", FIGURE]) for i in (1, 2, 3)]
    compiler = batch.Compiler({"exam": _head()}, tmp_path / "w", jobs=1, batch_size=3)
    for job in jobs:
        compiler.add(job)
    layouts = compiler.close()
    source = layouts["exam-1"].source[0]
    assert layouts["exam-3"].source[0] == source and _forms(source) == 1  # 6 figures, drawn once
    # the papers' own .tex, one after the other in one document (the floor of bench/), draw theirs each
    alone = tmp_path / "alone" / "all.tex"
    alone.parent.mkdir()
    alone.write_text(assemble(_head(), [(tables(j.name, "?"), j.body) for j in jobs]), encoding="utf-8")
    assert _forms(pdf.compile_pdf(alone)) == 3


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_every_paper_is_compiled_once_and_labelled_with_its_own_count(tmp_path):
    seen: list[str] = []
    jobs = [_job(tmp_path, f"exam-{i}", [r"\null\clearpage" * (i % 3), f"Paper {i}."]) for i in range(1, 8)]
    compiler = batch.Compiler({"exam": _head()}, tmp_path / "w", jobs=2, totals={"exam": len(jobs)},
                              on_batch=lambda done: seen.extend(job.name for job, _ in done))
    for job in jobs:
        compiler.add(job)
    layouts = compiler.close()
    assert sorted(seen) == sorted(j.name for j in jobs)  # each once: no second pass for a page count
    assert {layouts[j.name].pages for j in jobs} == {1, 2, 3}
    labels = Labels(compiler)
    from qgen.render import stamp

    stamp.write_papers([batch.cut(j, layouts[j.name], pieces=labels.pieces("exam", layouts[j.name].pages))
                        for j in jobs])
    from tests.test_course_scale import _pages_text

    for j in jobs:
        texts = _pages_text(j.dest)
        assert [f"Page {k} of {len(texts)}" in t for k, t in enumerate(texts, 1)] == [True] * len(texts), j.name


def test_students_fields_must_sit_where_every_version_has_them():
    same = {"1": batch.PaperLayout(9, 9, {}, {"name": (1, 10, 20), "id": (1, 30, 20), "footer": (1, 5, 5)}),
            "2": batch.PaperLayout(8, 8, {}, {"name": (1, 10, 20), "id": (1, 30, 20), "footer": (1, 5, 5)})}
    assert personal.field_positions(same)["name"] == (1, 10, 20)
    moved = dict(same, **{"3": batch.PaperLayout(9, 9, {}, {"name": (1, 10, 99), "id": (1, 30, 20),
                                                               "footer": (1, 5, 5)})})
    with pytest.raises(RenderError, match=r"exam-3: its name field is not where the other versions have it"):
        personal.field_positions(moved)
