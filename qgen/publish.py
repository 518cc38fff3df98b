"""Write an exam set to a folder: .tex, PDFs and manifest.json, all or nothing.

Everything is written into a fresh folder beside the target and moved into place only when
every file (and every PDF) is ready, so a failed run leaves the old output as it was; a run
that fails in LaTeX leaves its work in `<out>.failed/` (the .tex files and the failing LaTeX
logs) and says so.

The papers of a set (qgen.render.papers): per version an exam (`exam-<v>`) and a key
(`key-<v>`); with a roster, also one exam per student (`papers/<id>.pdf`): their version's
pages with name, id and place on the cover, and their own QR code on every page. A fixed layout
makes every version's questions start on the same pages and every exam the same length, for
scan-based grading. The manifest records the TeX engine ("engine": lualatex when the bank's
text or a roster name needs it).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qgen import __version__, difficulty, safe_write
from qgen.bank import Bank
from qgen.csvout import to_csv
from qgen.errors import QgenError, RenderError
from qgen.families import course
from qgen.generate import Draws, Version, build_versions, manifest
from qgen.grade.columns import template_header
from qgen.lock import hold
from qgen.render import batch, papers, pdf, scripts
from qgen.render.exam import tables
from qgen.render.papers import spaced
from qgen.roster import Student, file_stem, version_for


@dataclass(frozen=True)
class Options:
    """How to lay out and print a set (the CLI's flags)."""

    roster: Sequence[Student] = ()
    fixed_layout: bool = False
    answer_sheet: bool = False
    qr: bool = True
    combined: bool = False
    duplex: bool = False  # combined PDFs: every paper starts on a new sheet


@dataclass(frozen=True)
class Result:
    """What `write_exam_set` made."""

    out: Path
    versions: list[Version]
    tex: list[Path]
    pdfs: list[Path]
    difficulty: difficulty.Report
    layout: dict[str, Any] = field(default_factory=dict)
    students: list[dict[str, str]] = field(default_factory=list)
    engine: str = scripts.PDFLATEX
    warnings: list[str] = field(default_factory=list)


def render_version(bank: Bank, v: Version, *, key: bool) -> str:
    """The LaTeX of one version's exam (key=False) or answer key (key=True), standalone."""
    from qgen.render.exam import document

    return document(title=bank.title, course=bank.course, date=bank.date, instructions=bank.instructions,
                    exam_id=bank.exam_id, version=v.id, places=bank.places, questions=spaced(bank, v).questions,
                    key=key, paper_size=bank.paper)


def write_exam_set(bank: Bank, version_ids: list[str], out: Path, *, make_pdf: bool = True, force: bool = False,
                   jobs: int | None = None, timeout: float = 120, options: Options = Options(),
                   progress: Callable[[str, int], None] | None = None) -> Result:
    """Solve, render and (optionally) compile every version (and every student's paper) into `out`.

    `progress(stage, n)` is told how many steps a stage has (n < 0: "versions", "layout",
    "pdf") and then called with n=1 per step done, for a progress bar.
    """
    out = Path(out)
    check_output(out, force)
    if make_pdf:
        pdf.require_tex()
    with hold(out, "qgen generate"):  # one run at a time on a folder: a second one fails at once
        return _write_exam_set(bank, version_ids, out, make_pdf, jobs, timeout, options, progress)


MARKER = ".qgen-output"  # in every folder `generate` writes: --force replaces only such folders


def _ours(folder: Path) -> bool:
    return (folder / MARKER).is_file() and not (folder / MARKER).is_symlink()


def check_output(out: Path, force: bool) -> None:
    """Refuse an output folder that `generate` must not write or replace (one-line QgenErrors)."""
    if out.is_symlink() and not out.exists():
        raise QgenError(f"{out}: is a link to nothing; give --out a folder")
    if out.exists() and not out.is_dir():
        raise QgenError(f"{out}: is a file; give --out a folder")
    if out.resolve() == Path(out.resolve().anchor) or out.resolve() == Path.home().resolve():
        raise QgenError(f"{out}: is the root or your home folder; give --out a folder of its own, e.g. build/exam")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise QgenError(f"{out}: already exists and is not empty; choose another --out or pass --force to "
                            "replace it")
        if not _ours(out):
            raise QgenError(f"{out}: --force replaces only a folder qgen generate wrote (it has a {MARKER} file), "
                            "and this one was not: choose another --out, or move it away yourself")


def _write_exam_set(bank: Bank, version_ids: list[str], out: Path, make_pdf: bool, jobs: int | None,
                    timeout: float, options: Options, progress: Callable[[str, int], None] | None) -> Result:
    tell = progress or (lambda stage, n: None)
    staging = safe_write.staging_folder(out)  # beside `out`, mode 0o777 minus the umask
    run = papers.SetRun(bank, options, staging, jobs, timeout, tell, make_pdf, len(version_ids))
    try:
        (staging / MARKER).write_text(f"written by qgen generate {__version__}; --force may replace this folder\n",
                                      encoding="utf-8")
        students = [_assign(bank, s, version_ids) for s in options.roster]
        run.start(students)
        tell("versions", -len(version_ids))
        build_versions(bank, version_ids, Draws(), jobs=jobs, progress=run.version_done)
        versions = run.versions
        report = difficulty.compare(difficulty.measure_versions(versions))
        record = manifest(bank, versions)
        record["difficulty"] = report.as_dict()
        layout: dict[str, Any] = {"fixed": options.fixed_layout}
        if make_pdf:
            layout = run.finish(students)
        record["engine"] = run.engine_used()
        record["layout"] = layout
        if students:
            record["students"] = students
        for p in run.papers:
            _write_tex(staging / p.tex, run.heads[p.job.kind], p.job, layout.get("pages", {}).get(p.job.name))
        tex = [p.tex for p in run.papers]
        if students:
            tex.append(run.write_stamp_tex(students))
        recorded = {r["name"] for r in record.get("families", ())}
        for src, rel in course.copies([f for f in bank.families if f.name in recorded]):
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)  # the families that made these exams
            shutil.copyfile(src, staging / rel)
        (staging / "manifest.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        (staging / "answers-template.csv").write_text(to_csv([template_header(record)]), encoding="utf-8")
        if students:
            (staging / "roster-versions.csv").write_text(_roster_csv(students), encoding="utf-8")
        pdfs = run.pdfs(students) if make_pdf else []
        safe_write.swap_in(staging, out)
    except RenderError as err:
        run.stop()
        for p in run.papers:  # the .tex the error message's lines refer to (page counts unknown)
            _write_tex(staging / p.tex, run.heads[p.job.kind], p.job, None)
        failed = out.with_name(f"{out.name}.failed")
        if failed.is_symlink() or (failed.exists() and not _ours(failed)):  # not ours: never deleted
            failed = Path(tempfile.mkdtemp(prefix=f"{out.name}.failed-", dir=out.parent))
        shutil.rmtree(failed, ignore_errors=True)
        os.replace(staging, failed)
        raise RenderError(str(err).replace(str(staging), str(failed))
                          + f"\nThe .tex files and the failed LaTeX runs' logs are in {failed}/") from None
    except OSError as e:  # a full disk, a folder that cannot be written: one line, the old output untouched
        run.stop()
        shutil.rmtree(staging, ignore_errors=True)
        raise safe_write.WriteError(f"{out}: cannot be written ({e.strerror or e}); the old output, if any, was "
                                    "left as it was", e.strerror or str(e)) from None
    except BaseException:
        run.stop()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    rel = [p.relative_to(staging) for p in pdfs]
    return Result(out, run.versions, [out / p for p in tex], [out / p for p in rel], report, layout,
                  students, run.engine_used(), run.warnings)


def _assign(bank: Bank, student: Student, version_ids: list[str]) -> dict[str, str]:
    """A roster row in the manifest: who, which version, which file."""
    stem = file_stem(student.id)
    return {"id": student.id, "name": student.name, "section": student.section, "room": student.room,
            "version": version_for(bank.exam_id, student.id, version_ids), "paper": f"papers/{stem}.pdf"}


def _write_tex(path: Path, head: str, job: batch.PaperJob, pages: int | None) -> None:
    """A paper's standalone .tex: what was compiled, with its final page count (None: not known)."""
    from qgen.render.exam import assemble

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(assemble(head, [(tables(job.name, pages or "?", job.force), job.body)]), encoding="utf-8")


def _roster_csv(students: list[dict[str, str]]) -> str:
    return to_csv([["student_id", "name", "section", "room", "version", "paper"],
                   *[[s["id"], s["name"], s["section"], s["room"], s["version"], s["paper"]] for s in students]])
