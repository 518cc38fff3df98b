"""Write an exam set to a folder: .tex, PDFs and manifest.json, all or nothing.

Everything is written into a fresh folder beside the target and moved into place only when
every file (and every PDF) is ready, so a failed run leaves the old output as it was; a run
that fails in LaTeX leaves its work in `<out>.failed/` (the .tex files and the failing LaTeX
logs) and says so.

The papers of a set: per version an exam (`exam-<v>`) and a key (`key-<v>`); with a roster,
also one exam per student (`papers/<id>.pdf`), with name, id and place on the cover, the
version its id hashes to, and a QR code on every page. They are compiled many to a LaTeX run
(qgen.render.batch.compile_papers). A fixed layout makes every version's questions start on the
same pages and every exam the same length, for scan-based grading.

The engine is chosen per set from its LaTeX (qgen.render.scripts): pdflatex when it prints every
character, else LuaLaTeX with Noto fonts (a name in Chinese, Arabic, Vietnamese, an emoji). The
manifest records which ("engine"); a character no font has is printed as a boxed "?" and warned
about, naming the roster row.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qgen import __version__, difficulty, safe_write
from qgen.bank import Bank
from qgen.csvout import to_csv
from qgen.errors import QgenError, RenderError
from qgen.generate import Draws, Version, build_versions, manifest
from qgen.grade.columns import template_header
from qgen.lock import hold
from qgen.render import batch, pdf, scripts
from qgen.render.exam import answer_sheet_cells, exam_context, paper, preamble, tables
from qgen.render.qr import payload, qr_tex
from qgen.render.space import with_space
from qgen.roster import Student, file_stem, version_for

MAX_LAYOUT_PASSES = 6


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


def spaced(bank: Bank, v: Version) -> Version:
    """A version with its bank's `space:` on the parts (the answer boxes a question sets itself)."""
    if not any(spec.space for spec in bank.questions):
        return v
    questions = []
    for spec, q in zip(bank.questions, v.questions):
        try:
            questions.append(replace(q, parts=with_space(q.parts, spec.space, f"questions[{spec.index}]")))
        except QgenError as e:
            raise type(e)(f"{spec.where}: questions[{spec.index}] ({spec.family}): {e}") from None
    return replace(v, questions=tuple(questions))


@dataclass
class _Paper:
    """A paper to print: the compile job and what its standalone .tex needs."""

    job: batch.PaperJob
    version: str
    tex: Path  # relative to the output folder


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

    tell("versions", -len(version_ids))
    versions = build_versions(bank, version_ids, Draws(), jobs=jobs, progress=lambda v: tell("versions", 1))
    versions = [spaced(bank, v) for v in versions]
    by_id = {v.id: v for v in versions}

    report = difficulty.compare(difficulty.measure_versions(versions))
    record = manifest(bank, versions)
    record["difficulty"] = report.as_dict()
    sheets = {v["version"]: answer_sheet_cells(v["questions"]) for v in record["versions"]} \
        if options.answer_sheet else {}
    students = [_assign(bank, s, version_ids) for s in options.roster]

    contexts = {v.id: exam_context(title=bank.title, course=bank.course, date=bank.date,
                                   instructions=bank.instructions, exam_id=bank.exam_id, version=v.id,
                                   places=bank.places, questions=v.questions, paper=bank.paper) for v in versions}
    warnings = _unprintable(options.roster)

    staging = safe_write.staging_folder(out)  # beside `out`, mode 0o777 minus the umask
    everything: list[_Paper] = []
    heads: dict[str, str] = {}
    try:
        (staging / MARKER).write_text(f"written by qgen generate {__version__}; --force may replace this folder\n",
                                      encoding="utf-8")
        masters = [_version_paper(bank, by_id[vid], contexts[vid], staging, key=False, qr=options.qr,
                                  sheet=sheets.get(vid)) for vid in version_ids]
        keys = [_version_paper(bank, by_id[vid], contexts[vid], staging, key=True) for vid in version_ids]
        personal = [_student_paper(bank, by_id[s["version"]], contexts[s["version"]], staging, student, s,
                                   qr=options.qr, sheet=sheets.get(s["version"]))
                    for student, s in zip(options.roster, students)]
        everything = masters + keys + personal
        engine, groups = _engine(bank, options.roster, contexts[versions[0].id], everything, options.qr,
                                 check=make_pdf)
        fonts = scripts.font_setup(groups) if engine == scripts.LUALATEX else None
        heads = {"exam": preamble(contexts[versions[0].id], key=False, qr=options.qr, fonts=fonts),
                 "key": preamble(contexts[versions[0].id], key=True, fonts=fonts)}
        layout: dict[str, Any] = {"fixed": options.fixed_layout}
        if make_pdf:
            layout = _compile(masters, keys, personal, heads, staging, options, jobs, timeout, tell, engine)
        record["engine"] = engine
        record["layout"] = layout
        if students:
            record["students"] = students
        for p in everything:
            _write_tex(staging / p.tex, heads[p.job.kind], p.job, layout.get("pages", {}).get(p.job.name))
        (staging / "manifest.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        (staging / "answers-template.csv").write_text(to_csv([template_header(record)]), encoding="utf-8")
        if students:
            (staging / "roster-versions.csv").write_text(_roster_csv(students), encoding="utf-8")
        pdfs = [p.job.dest for p in everything] if make_pdf else []
        if make_pdf and options.combined:
            pdfs += _combine(staging, personal or masters, keys, duplex=options.duplex)
        safe_write.swap_in(staging, out)
    except RenderError as err:
        if not heads:  # failed before the engine was chosen
            heads = {"exam": preamble(contexts[versions[0].id], key=False, qr=options.qr),
                     "key": preamble(contexts[versions[0].id], key=True)}
        for p in everything:  # the .tex the error message's lines refer to (page counts unknown)
            _write_tex(staging / p.tex, heads[p.job.kind], p.job, None)
        failed = out.with_name(f"{out.name}.failed")
        if failed.is_symlink() or (failed.exists() and not _ours(failed)):  # not ours: never deleted
            failed = Path(tempfile.mkdtemp(prefix=f"{out.name}.failed-", dir=out.parent))
        shutil.rmtree(failed, ignore_errors=True)
        os.replace(staging, failed)
        raise RenderError(str(err).replace(str(staging), str(failed))
                          + f"\nThe .tex files and the failed LaTeX runs' logs are in {failed}/") from None
    except OSError as e:  # a full disk, a folder that cannot be written: one line, the old output untouched
        shutil.rmtree(staging, ignore_errors=True)
        raise safe_write.WriteError(f"{out}: cannot be written ({e.strerror or e}); the old output, if any, was "
                                    "left as it was", e.strerror or str(e)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    rel = [p.relative_to(staging) for p in pdfs]
    return Result(out, versions, [out / p.tex for p in everything], [out / p for p in rel], report, layout,
                  students, engine, warnings)


_FIELDS = ("name", "id", "section", "room")


def _unprintable(roster: Sequence[Student]) -> list[str]:
    """A warning per roster row with a character no font has (it is printed as a boxed "?")."""
    out = []
    for s in roster:
        for f in _FIELDS:
            value = getattr(s, f)
            bad = scripts.unprintable(value)
            if bad:
                chars = ", ".join(scripts.describe(c) for c in bad)
                out.append(f"{s.source}:{s.line}: {f} {value!r}: no font qgen uses has {chars}; printed as [?]")
    return out


def _engine(bank: Bank, roster: Sequence[Student], exam: dict[str, Any], papers: list[_Paper], qr: bool, *,
            check: bool) -> tuple[str, set[str]]:
    """The TeX engine for the set's LaTeX and the Noto script groups it needs. With `check`, a
    missing lualatex or font is one QgenError naming the first roster row (file:line) or bank
    text with such a character, and the `apt-get install` line that fixes it."""
    head = preamble(exam, key=False, qr=qr)
    beyond = {c for text in [head, *(p.job.body for p in papers)] for c in text if not scripts.pdflatex_prints(c)}
    beyond = {c for c in beyond if scripts.script_of(c) is not None}  # not bidi marks and the like
    if not beyond:
        return scripts.PDFLATEX, set()
    groups = {scripts.script_of(c).name for c in beyond}  # type: ignore[union-attr]
    if not check:
        return scripts.LUALATEX, groups
    tex_missing = pdf.lualatex_missing()
    fonts_missing = scripts.missing_fonts(groups)
    if not tex_missing and not fonts_missing:
        return scripts.LUALATEX, groups
    wanted = beyond if tex_missing else {c for c in beyond if scripts.script_of(c) in fonts_missing}
    packages = ([scripts.LUALATEX_PACKAGE] if tex_missing else []) \
        + list(dict.fromkeys(s.package for s in fonts_missing))
    texts = [(f"{s.source}:{s.line}", f, getattr(s, f)) for s in roster for f in _FIELDS]
    texts += [(str(bank.path), f, getattr(bank, f)) for f in ("title", "course", "date", "instructions")]
    texts += [(f"{bank.path} ({p.job.name})", "text", p.job.body) for p in papers]
    where, what, text, char = next(((w, f, t, c) for w, f, t in texts for c in t if c in wanted),
                                   (str(bank.path), "text", "", sorted(wanted)[0]))
    shown = f" {text!r}" if len(text) <= 80 else ""
    lacking = "lualatex (texlive-luatex)" if tex_missing else \
        "the font " + " and ".join(f"{s.font} ({s.file})" for s in fonts_missing)
    raise QgenError(f"{where}: {what}{shown} has {scripts.describe(char)}, which pdflatex cannot print, and "
                    f"LuaLaTeX needs {lacking}, which is not installed: run `apt-get install "
                    f"{' '.join(packages)}` (or bash scripts/bootstrap.sh), or pass --no-pdf")


def _assign(bank: Bank, student: Student, version_ids: list[str]) -> dict[str, str]:
    """A roster row in the manifest: who, which version, which file."""
    stem = file_stem(student.id)
    return {"id": student.id, "name": student.name, "section": student.section, "room": student.room,
            "version": version_for(bank.exam_id, student.id, version_ids), "paper": f"papers/{stem}.pdf"}


def _qr_for(exam_id: str, version: str, student: str | None) -> Callable[[int], list[tuple[str, str]]]:
    """The QR table of a paper of `pages` pages: a code per page, and one without a page for any
    page beyond them."""
    def make(pages: int) -> list[tuple[str, str]]:
        codes = [(str(n), qr_tex(payload(exam_id, version, page=n, student=student))) for n in range(1, pages + 1)]
        return codes + [("any", qr_tex(payload(exam_id, version, student=student)))]
    return make


def _version_paper(bank: Bank, v: Version, exam: dict[str, Any], staging: Path, *, key: bool, qr: bool = False,
                   sheet: list[dict[str, Any]] | None = None) -> _Paper:
    name = f"{'key' if key else 'exam'}-{v.id}"
    body = paper(exam, v.questions, name=name, key=key, answer_sheet=None if key else sheet)
    title = f"{bank.title}: {'answer key' if key else 'exam'}, version {v.id}"
    job = batch.PaperJob(name=name, kind="key" if key else "exam", body=body, dest=staging / f"{name}.pdf",
                       title=title, qr=_qr_for(bank.exam_id, v.id, None) if qr and not key else None)
    return _Paper(job, v.id, Path(f"{name}.tex"))


def _student_paper(bank: Bank, v: Version, exam: dict[str, Any], staging: Path, student: Student,
                   assigned: dict[str, str], *, qr: bool, sheet: list[dict[str, Any]] | None) -> _Paper:
    stem = Path(assigned["paper"]).stem
    name = f"paper-{stem}"
    who = {"id": student.id, "name": student.name, "place": student.place}
    body = paper(exam, v.questions, name=name, key=False, student=who, answer_sheet=sheet)
    job = batch.PaperJob(name=name, kind="exam", body=body, dest=staging / "papers" / f"{stem}.pdf",
                       title=f"{bank.title}: {student.name or student.id}, version {v.id}",
                       qr=_qr_for(bank.exam_id, v.id, student.id) if qr else None)
    return _Paper(job, v.id, Path("papers") / f"{stem}.tex")


def _compile(masters: list[_Paper], keys: list[_Paper], personal: list[_Paper], heads: dict[str, str],
             staging: Path, options: Options, jobs: int | None, timeout: float,
             tell: Callable[[str, int], None], engine: str = scripts.PDFLATEX) -> dict[str, Any]:
    """Compile every paper; with a fixed layout, first settle the pages each question starts on
    over the versions' exams (a few passes), then print the students' papers with it."""
    work = staging / ".latex"
    pages: dict[str, int] = {}

    def run(papers: list[_Paper], stage: str) -> dict[str, batch.PaperLayout]:
        tell(stage, -len(papers))
        got = batch.compile_papers([p.job for p in papers], heads, work, jobs=jobs, timeout=timeout,
                                 on_done=lambda job: tell(stage, 1), engine=engine)
        pages.update({name: layout.pages for name, layout in got.items()})
        return got

    layout: dict[str, Any] = {"fixed": options.fixed_layout}
    if not options.fixed_layout:
        run(masters + keys + personal, "pdf")
    else:
        tell("layout", -MAX_LAYOUT_PASSES * len(masters))
        force: dict[str, int] = {}
        got = {}
        for attempt in range(MAX_LAYOUT_PASSES):
            # keys need no layout: they go with the first pass, to keep every core busy
            now = masters + (keys if attempt == 0 else [])
            got = batch.compile_papers([p.job for p in now], heads, work, jobs=jobs, timeout=timeout,
                                     on_done=lambda job: tell("layout", 1) if job.kind == "exam" else None,
                                     engine=engine)
            pages.update({name: got[name].pages for name in got})
            target = _targets([got[p.job.name] for p in masters])
            if all(_settled(got[p.job.name], target) for p in masters) \
                    and len({got[p.job.name].pages for p in masters}) == 1:
                break
            force = target
            longest = max(got[p.job.name].pages for p in masters)
            for p in masters:
                p.job = replace(p.job, force=tuple(force.items()), pages=longest)
        else:
            starts = {p.version: got[p.job.name].starts for p in masters}
            raise RenderError(f"could not give every version the same layout in {MAX_LAYOUT_PASSES} LaTeX passes "
                              f"(question start pages: {starts}); shorten the longest question or lay out without "
                              "--fixed-layout")
        tell("layout", MAX_LAYOUT_PASSES * len(masters))  # finish the bar
        count = got[masters[0].job.name].pages
        for p in personal:
            p.job = replace(p.job, force=tuple(force.items()), pages=count)
        if personal:
            personal_layouts = run(personal, "pdf")
            for p in personal:  # a name cannot move the layout (its box is fixed), but check
                if not _settled(personal_layouts[p.job.name], target):
                    raise RenderError(f"{p.tex}: the student's paper does not follow its version's layout "
                                      f"({personal_layouts[p.job.name].starts}, expected {target})")
        layout.update({"exam_pages": count, "question_pages": {q: page for q, page in target.items() if q != "end"}})
    layout["pages"] = dict(sorted(pages.items()))
    shutil.rmtree(work, ignore_errors=True)
    return layout


def _targets(layouts: list[batch.PaperLayout]) -> dict[str, int]:
    """The page each question should start on (the latest any version starts it on), and the
    page the questions should end on ("end")."""
    numbers = sorted({q for layout in layouts for q in layout.starts})
    target = {str(q): max(layout.starts.get(q, 0) for layout in layouts) for q in numbers}
    target["end"] = max(layout.content for layout in layouts)
    return target


def _settled(layout: batch.PaperLayout, target: dict[str, int]) -> bool:
    return all(layout.starts.get(int(q)) == page for q, page in target.items() if q != "end")


def _write_tex(path: Path, head: str, job: batch.PaperJob, pages: int | None) -> None:
    """A paper's standalone .tex: what was compiled, with its final page count (None: not known)."""
    from qgen.render.exam import assemble

    path.parent.mkdir(parents=True, exist_ok=True)
    # a page count unknown (--no-pdf): the paper's code without a page, on every page; 13 codes
    # per paper would be most of the time `--no-pdf` takes
    qr = job.qr(pages or 0) if job.qr else ()
    path.write_text(assemble(head, [(tables(job.name, pages or "?", job.force, qr), job.body)]), encoding="utf-8")


def _roster_csv(students: list[dict[str, str]]) -> str:
    return to_csv([["student_id", "name", "section", "room", "version", "paper"],
                   *[[s["id"], s["name"], s["section"], s["room"], s["version"], s["paper"]] for s in students]])


def _combine(staging: Path, exams: list[_Paper], keys: list[_Paper], *, duplex: bool) -> list[Path]:
    """One print-ready PDF of all exams (in roster order, or by version) and one of all keys;
    for double-sided printing (`duplex`) a paper with an odd page count gets a blank page."""
    from pypdf import PdfWriter

    made = []
    for name, papers in (("exams-all.pdf", exams), ("keys-all.pdf", keys)):
        writer = PdfWriter()
        for p in papers:
            writer.append(str(p.job.dest))
            if duplex and len(writer.pages) % 2:
                writer.add_blank_page()
        with open(staging / name, "wb") as f:
            writer.write(f)
        made.append(staging / name)
    return made
