"""`qgen export`: an exam set's auto-gradable parts for an LMS: Moodle XML, QTI 1.2 (Canvas), JSON.

Everything here is pure (strings and bytes from manifest.json) except `load_manifest` and
`write_export`, the only functions that touch files, and `_draw`, which has qgen.render.pdf draw
the figures (TeX in a temporary folder); `export_folder` ties them together for the command line.

>>> sorted(FORMATS)
['json', 'moodle', 'qti']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qgen.export.model import ExamExport, ExportError, exam_export
from qgen.export.moodle import moodle_xml, scaled_questions
from qgen.export.qti import qti_zip
from qgen.export.record import export_json
from qgen.manifests import load_manifest
from qgen.safe_write import write_file

__all__ = ["FORMATS", "Export", "ExportError", "export", "export_folder", "load_manifest", "write_export"]


@dataclass(frozen=True)
class Format:
    """An export format: the file suffix and the function that makes its bytes."""

    suffix: str
    make: Callable[[ExamExport], bytes]
    needs_auto: bool  # an LMS format: refuse an exam with nothing it can grade


FORMATS: dict[str, Format] = {
    "moodle": Format(".moodle.xml", lambda e: moodle_xml(e).encode("utf-8"), True),
    "qti": Format(".qti.zip", qti_zip, True),
    "json": Format(".export.json", lambda e: export_json(e).encode("utf-8"), False),
}


@dataclass(frozen=True)
class Export:
    """What `export` made: the file's bytes, its default file name, the exam, and lines to tell the user."""

    format: str
    data: bytes
    name: str
    exam: ExamExport
    summary: tuple[str, ...]
    notes: tuple[str, ...]


def file_stem(exam_id: str) -> str:
    """A file name from an exam id: 'ML midterm/2026' -> 'ML-midterm-2026'."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", exam_id).strip("-.")
    return stem or "exam"


def _draw(pictures: list[str]) -> list[bytes]:
    """The exam's TikZ figures as PNG images (pdflatex, then pdftoppm: qgen.render.pdf); the same figures
    are drawn once per process (exporting one exam in several formats)."""
    from qgen.render.pdf import figure_pngs, figures_missing

    if figures_missing():
        return figure_pngs(pictures)  # raises, saying what is missing
    return list(_drawn(tuple(pictures)))


@functools.lru_cache(maxsize=8)
def _drawn(pictures: tuple[str, ...]) -> tuple[bytes, ...]:
    from qgen.render.pdf import figure_pngs

    return tuple(figure_pngs(list(pictures)))


def export(manifest: Mapping[str, Any], fmt: str, *, where: str = "manifest.json", figures: bool = True) -> Export:
    """Export a manifest in format `fmt` (moodle, qti, json); errors name `where`.

    For Moodle and Canvas the exam's figures are drawn from its TikZ (needs TeX and pdftoppm; without them,
    or with `figures=False`, they are left out or noted, and the notes say why)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(sorted(FORMATS))}")
    if not isinstance(manifest, Mapping) or not isinstance(manifest.get("versions"), list):
        raise ExportError(f"{where}: not a qgen manifest (no versions); give the folder `qgen generate` wrote")
    form = FORMATS[fmt]
    draw = _draw if form.needs_auto and figures else None  # an LMS shows figures as images
    try:
        exam = exam_export(manifest, draw)
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{where}: malformed manifest ({type(e).__name__}: {e}); "
                          "regenerate it with `qgen generate`") from None
    if form.needs_auto and exam.auto_cells == 0:
        raise ExportError(f"{where}: no part of this exam can be graded by an LMS (only formulas and parts graded by "
                          f"hand); nothing to export as {fmt}. Use --format json for every part.")
    notes = list(exam.notes)
    if fmt == "moodle":
        notes += [f"Q{i}: Moodle cloze weights are whole numbers: points x {k}; set the question's maximum mark "
                  "in the quiz to its points" for i, k in scaled_questions(exam).items()]
    return Export(fmt, form.make(exam), file_stem(exam.id) + form.suffix, exam, summary(exam, fmt), tuple(notes))


def summary(exam: ExamExport, fmt: str) -> tuple[str, ...]:
    """What the export holds, in a line or two."""
    versions = len(exam.versions)
    questions = [q for v in exam.versions for q in v.questions if q.cells]
    indices = sorted({q.index for q in questions})
    if fmt == "moodle":
        numerical = sum(1 for q in questions if len(q.cells) == 1 and q.cells[0].kind in ("number", "integer"))
        categories = f"{len(indices)} categor{'y' if len(indices) == 1 else 'ies'}"
        kinds = f"{len(questions) - numerical} cloze, {numerical} numerical"
        line = f"{len(questions)} Moodle questions ({kinds}) in {categories} (one per exam question, one per version)"
        return (line,)
    if fmt == "qti":
        each = f"{len(indices)} exam question{'' if len(indices) == 1 else 's'} each"
        return (f"{versions} Canvas quizzes (one per version), {exam.auto_cells} answer items in all, {each}",)
    parts = sum(len(q.parts) for v in exam.versions for q in v.questions)
    return (f"{versions} versions, {parts} parts, {exam.auto_cells} auto-gradable answer cells",)


def write_export(data: bytes, path: Path) -> Path:
    """Write `data` to `path` atomically (qgen.safe_write.write_file: a temporary file beside it,
    then renamed): never half-written, and with the mode every new file gets."""
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give --out a file name (e.g. {path / 'exam.moodle.xml'})")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"{path.parent}: cannot be made ({e.strerror or e}); choose another --out") from None
    return write_file(path, data)


def export_folder(exam_dir: Path, fmt: str, out: Path | None = None) -> tuple[Path, Export]:
    """Export the exam folder `exam_dir` into `out` (default: exam_dir/export/<exam id><suffix>)."""
    manifest = load_manifest(exam_dir)
    result = export(manifest, fmt, where=str(Path(exam_dir) / "manifest.json"))
    path = write_export(result.data, out or Path(exam_dir) / "export" / result.name)
    return path, result
