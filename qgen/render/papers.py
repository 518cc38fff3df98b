"""The papers of an exam set from versions to PDFs: compiled while later versions are solved,
cut, coded and personalised in worker processes.

Per version an exam (`exam-<v>`) and a key (`key-<v>`). Each version's papers go to LaTeX
(qgen.render.batch.Compiler) as soon as the version is solved; each finished run's papers are
cut out of its PDF with their QR codes put on (qgen.render.stamp) in worker processes, off the
cores' LaTeX time as far as two cores allow. A roster adds no LaTeX run per student: every
student's paper is their version's compiled pages, with their name, id and place put on from
one small "stamp" document (one page per student) and their own QR code on every page. A fixed
layout (`--fixed-layout`) first settles every version's question pages over all versions, so
it compiles after all versions are solved.

The engine is chosen from the LaTeX it must print (qgen.render.scripts): pdflatex when it can,
else LuaLaTeX with Noto fonts, separately for the versions' papers (bank text) and for the stamp
document (the roster's names).
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qgen.bank import Bank
from qgen.errors import QgenError, RenderError
from qgen.generate import Version, manifest
from qgen.render import batch, engines, pdf, personal, scripts
from qgen.render.exam import (
    answer_sheet_cells,
    exam_context,
    paper,
    preamble,
    stamp_document,
)
from qgen.render.labels import Labels
from qgen.render.qr import payload
from qgen.render.space import with_space

MAX_LAYOUT_PASSES = 6
STUDENTS_PER_TASK = 40  # students' papers a worker process writes per task


@dataclass
class Paper:
    """A paper to print: the compile job and where its standalone .tex goes (relative to the output)."""

    job: batch.PaperJob
    version: str
    tex: Path


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


class SetRun:
    """One `generate` run's papers: fed a version at a time (`version_done`), then `finish`."""

    def __init__(self, bank: Bank, options: Any, staging: Path, jobs: int | None, timeout: float,
                 tell: Callable[[str, int], None], make_pdf: bool, expected: int) -> None:
        self.bank, self.options, self.staging, self.jobs, self.timeout = bank, options, staging, jobs, timeout
        self.tell, self.make_pdf, self.expected = tell, make_pdf, expected
        self.name_groups = engines.roster_groups(options.roster)
        self.fixed: dict[str, Any] = {}
        self.students: list[dict[str, str]] = []
        self.student_papers: dict[str, Any] = {}  # by file
        self.stamp_docs: list[tuple[Path, int]] = []  # per student: (stamp PDF, first stamp page)
        self.stamp_lock = threading.Lock()
        self.pool: ProcessPoolExecutor | None = None
        self.merge_pool: ProcessPoolExecutor | None = None
        self.versions: list[Version] = []
        self.papers: list[Paper] = []
        self.heads: dict[str, str] = {}
        self.engine = scripts.PDFLATEX
        self.warnings = engines.unprintable_names(options.roster)
        self.work = staging / ".latex"
        self.stream = make_pdf and not options.fixed_layout
        self.compiler: batch.Compiler | None = None
        self.writes: list[tuple[Future, int]] = []
        self.layouts: dict[str, batch.PaperLayout] = {}
        self.stamp_text = ""
        self.groups: set[str] = set()

    def start(self, students: list[dict[str, str]]) -> None:
        """Before the first version: fail at once if LuaLaTeX or a font for the names is missing,
        and start the worker processes that write the PDFs."""
        self.students = students
        if not self.make_pdf:
            return
        if self.name_groups:
            roster = self.options.roster
            engines.check_lualatex(self.bank, roster, engines.beyond_pdflatex([getattr(s, f) for s in roster for f in engines.FIELDS]))
        import qgen.render.stamp  # noqa: F401  (imported once here, so that forked workers have it)

        self.pool = _pool(self.jobs)
        if self.options.combined:  # its own process: the merge starts as soon as the papers are known
            self.merge_pool = _pool(1)
        b = self.bank  # the preambles need no version: LaTeX can load them while version 1 is solved
        self.context = exam_context(title=b.title, course=b.course, date=b.date, instructions=b.instructions,
                                    exam_id=b.exam_id, version="", places=b.places, questions=(), paper=b.paper)
        self.heads = {"exam": preamble(self.context, key=False, qr=self.options.qr),
                      "key": preamble(self.context, key=True)}
        if self.stream and engines.beyond_pdflatex([self.heads["exam"]]):
            self.stream = False
        if self.stream:
            self.compiler = batch.Compiler(self.heads, self.work, jobs=self.jobs, timeout=self.timeout,
                                           totals=self.totals, on_batch=self._write_batch, warm=True,
                                           on_warm=lambda kind: self.labels.warm(kind), start=False)
            self.labels = Labels(self.compiler)
            self.compiler.start()

    # -- versions as they are solved --------------------------------------------------------
    def version_done(self, v: Version) -> None:
        self.tell("versions", 1)
        v = spaced(self.bank, v)
        self.versions.append(v)
        b, o = self.bank, self.options
        context = exam_context(title=b.title, course=b.course, date=b.date, instructions=b.instructions,
                               exam_id=b.exam_id, version=v.id, places=b.places, questions=v.questions, paper=b.paper)
        sheet = answer_sheet_cells(manifest(b, [v])["versions"][0]["questions"]) if o.answer_sheet else None
        new = [version_paper(b, v, context, self.staging, key=False, qr=o.qr, sheet=sheet),
               version_paper(b, v, context, self.staging, key=True)]
        self.papers += new
        if not self.heads:
            self.heads = {"exam": preamble(context, key=False, qr=o.qr), "key": preamble(context, key=True)}
            self.context = context
        if not self.stream:
            return
        if engines.beyond_pdflatex([p.job.body for p in new]):
            self.stream = False  # LuaLaTeX: everything is compiled at the end, with the fonts it needs
            self._drop_streamed()
            return
        for p in new:
            self.compiler.add(p.job)

    def _drop_streamed(self) -> None:
        """Stop compiling with pdflatex and wait out the writes already started (they are redone)."""
        if self.compiler is not None:
            self.compiler.cancel()
            try:
                self.compiler.close()
            except RenderError:
                pass
            self.compiler = None
        for future, _ in self.writes:
            future.cancel()
            with contextlib.suppress(Exception):  # a cancelled or failed write is redone anyway
                future.result()
        self.writes.clear()
        self.stamp_docs, self.student_papers = [], {}

    @property
    def totals(self) -> dict[str, int]:
        return {"exam": self.expected, "key": self.expected}

    # -- PDFs -------------------------------------------------------------------------------
    def finish(self, students: list[dict[str, str]]) -> dict[str, Any]:
        """Every PDF written (the versions' and the students'); the manifest's "layout"."""
        if self.stream and self.compiler is not None:
            self.layouts = self.compiler.close()
        else:
            self.engine, groups = engines.engine_for(self.bank, self.context, self.papers, check=True)
            self.groups = groups
            if self.engine == scripts.LUALATEX:
                fonts = scripts.font_setup(groups)
                self.heads = {"exam": preamble(self.context, key=False, qr=self.options.qr, fonts=fonts),
                              "key": preamble(self.context, key=True, fonts=fonts)}
            self.layouts = self._compile_at_once()
            done = [(p.job, self.layouts[p.job.name]) for p in self.papers]
            for i in range(0, len(done), 10):
                self._write_batch(done[i:i + 10])
        layout: dict[str, Any] = {"fixed": self.options.fixed_layout}
        if self.options.fixed_layout:
            layout.update(self.fixed)
        pages = {name: lay.pages for name, lay in self.layouts.items()}
        if students:
            personal.field_positions({s["version"]: self.layouts[f"exam-{s['version']}"] for s in students})
            for s in students:
                pages[f"paper-{Path(s['paper']).stem}"] = self.layouts[f"exam-{s['version']}"].pages
        if self.options.combined:
            self._combined(students)
        self._wait()
        layout["pages"] = dict(sorted(pages.items()))
        shutil.rmtree(self.work, ignore_errors=True)
        return layout

    def engine_used(self) -> str:
        """"lualatex" when any of the set's LaTeX needs it (the versions' text or the roster's names)."""
        if not self.make_pdf and self.engine == scripts.PDFLATEX and self.papers:
            self.engine, _ = engines.engine_for(self.bank, self.context, self.papers, check=False)
        return scripts.LUALATEX if self.name_groups or self.engine == scripts.LUALATEX else scripts.PDFLATEX

    def pdfs(self, students: list[dict[str, str]]) -> list[Path]:
        made = [p.job.dest for p in self.papers] + [self.staging / s["paper"] for s in students]
        if self.options.combined:
            made += [self.staging / "exams-all.pdf", self.staging / "keys-all.pdf"]
        return made

    def stop(self) -> None:
        """After a failure: no more LaTeX, no more writing."""
        if self.compiler is not None:
            self.compiler.cancel()
        self._close_pools()

    def _close_pools(self) -> None:
        for pool in (self.pool, self.merge_pool):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self.merge_pool = None

    def _write_batch(self, done: list[tuple[batch.PaperJob, batch.PaperLayout]]) -> None:
        """A LaTeX run's papers: cut them out, with their page labels and codes, in a worker process;
        and the papers of the students who sit its versions."""
        self._submit([self._cut(job, layout) for job, layout in done], len(done))
        self._students_of(done)

    def _cut(self, job: batch.PaperJob, layout: batch.PaperLayout, **extra: Any) -> Any:
        pieces = self.labels.pieces(job.kind, layout.pages) + extra.pop("pieces", ())
        return batch.cut(job, layout, pieces=pieces, **extra)

    def _submit(self, papers: list[Any], count: int, combined: tuple[str, bool] | None = None) -> None:
        from qgen.render import stamp

        if self.pool is None:
            self.pool = _pool(self.jobs)
        if combined is None:
            future = self.pool.submit(stamp.write_papers, papers)
        else:
            pool = self.merge_pool or self.pool
            future = pool.submit(stamp.write_combined, papers, combined[0], duplex=combined[1])
        self.writes.append((future, count))

    def _wait(self) -> None:
        self.tell("pdf", -sum(count for _, count in self.writes))
        try:
            for future, count in self.writes:
                try:
                    future.result()
                except QgenError:
                    raise
                except Exception as err:  # noqa: BLE001 (a worker's pikepdf error: one line naming what failed
                    raise RenderError(f"writing the PDFs failed: {type(err).__name__}: {err}") from None
                self.tell("pdf", count)
        finally:
            self._close_pools()

    def _compile_at_once(self) -> dict[str, batch.PaperLayout]:
        """All papers at once (LuaLaTeX, or a fixed layout); with a fixed layout, first settle the
        pages each question starts on over the versions' exams (a few passes)."""
        jobs = [p.job for p in self.papers]
        if not self.options.fixed_layout:
            return self._compile_jobs(jobs)
        masters = [p for p in self.papers if p.job.kind == "exam"]
        keys = [p.job for p in self.papers if p.job.kind == "key"]
        self.tell("layout", -MAX_LAYOUT_PASSES * len(masters))
        got: dict[str, batch.PaperLayout] = {}
        for attempt in range(MAX_LAYOUT_PASSES):
            now = [p.job for p in masters] + (keys if attempt == 0 else [])  # keys need no layout
            got.update(self._compile_jobs(now, stage=f"pass{attempt}"))
            target = _targets([got[p.job.name] for p in masters])
            if all(_settled(got[p.job.name], target) for p in masters) \
                    and len({got[p.job.name].pages for p in masters}) == 1:
                break
            for p in masters:
                p.job = replace(p.job, force=tuple(target.items()))
        else:
            starts = {p.version: got[p.job.name].starts for p in masters}
            raise RenderError(f"could not give every version the same layout in {MAX_LAYOUT_PASSES} LaTeX passes "
                              f"(question start pages: {starts}); shorten the longest question or lay out without "
                              "--fixed-layout")
        self.tell("layout", MAX_LAYOUT_PASSES * len(masters))  # finish the bar
        self.fixed = {"exam_pages": got[masters[0].job.name].pages,
                      "question_pages": {q: page for q, page in target.items() if q != "end"}}
        return got

    def _compile_jobs(self, jobs: list[batch.PaperJob], stage: str = "run") -> dict[str, batch.PaperLayout]:
        counts: dict[str, int] = {}
        for job in jobs:
            counts[job.kind] = counts.get(job.kind, 0) + 1
        compiler = batch.Compiler(self.heads, self.work / stage, jobs=self.jobs, timeout=self.timeout,
                                  engine=self.engine, totals=counts)
        self.compiler = compiler
        self.labels = Labels(compiler)
        for job in jobs:
            compiler.add(job)
        return compiler.close()

    # -- students ---------------------------------------------------------------------------
    def _students_of(self, done: list[tuple[batch.PaperJob, batch.PaperLayout]]) -> None:
        """Write the papers of the students whose versions' exams are in `done` (a finished run):
        the stamp documents are compiled first, from the first run's field positions."""
        exams = {job.name: layout for job, layout in done if job.kind == "exam"}
        if not self.students or not exams:
            return
        with self.stamp_lock:
            if not self.stamp_docs:
                self._stamp_documents(next(iter(exams.values())).fields)
        papers = [self._student_paper(i, s, exams[f"exam-{s['version']}"]) for i, s in enumerate(self.students)
                  if f"exam-{s['version']}" in exams]
        for i in range(0, len(papers), STUDENTS_PER_TASK):
            self._submit(papers[i:i + STUDENTS_PER_TASK], len(papers[i:i + STUDENTS_PER_TASK]))
        with self.stamp_lock:
            self.student_papers.update({p.dest: p for p in papers})

    def _stamp_documents(self, fields: dict[str, tuple[int, int, int]]) -> None:
        """Compile the students' stamp documents (in parallel chunks) with the fields at `fields`."""
        at = {f: (x, y) for f, (_, x, y) in fields.items()}
        engine, head = self._stamp_engine()
        rows = self.stamp_rows
        parts = _chunks(rows, max(1, min(self.jobs or 2, len(rows) // 50 or 1)))
        self.stamp_text = stamp_document(head, at, rows)
        docs = self._compile_stamps(parts, head, at, engine)
        per = 3 if "sheetname" in at else 2  # stamp pages per student
        self.stamp_docs = [(doc, index * per) for part, doc in zip(parts, docs) for index in range(len(part))]

    def _student_paper(self, i: int, s: dict[str, str], layout: batch.PaperLayout) -> Any:
        doc, first = self.stamp_docs[i]
        job = batch.PaperJob(name=f"paper-{Path(s['paper']).stem}", kind="exam", body="",
                             dest=self.staging / s["paper"],
                             title=f"{self.bank.title}: {s['name'] or s['id']}, version {s['version']}",
                             qr=_codes(self.bank.exam_id, s["version"], s["id"]) if self.options.qr else None)
        return self._cut(job, layout, stamp=(str(doc), first), pieces=personal.pieces(layout, first, self.page_size))

    def _stamp_engine(self) -> tuple[str, str]:
        if not self.name_groups:
            return self.engine, self.heads["exam"]
        groups = self.name_groups | self.groups
        return scripts.LUALATEX, preamble(self.context, key=False, qr=self.options.qr,
                                          fonts=scripts.font_setup(groups))

    def _compile_stamps(self, parts: list[list[dict[str, str]]], head: str, at: dict[str, tuple[int, int]],
                        engine: str) -> list[Path]:
        """The stamp documents (one per chunk of students), compiled in parallel; their PDFs."""
        folder = self.work / "stamps"
        folder.mkdir(parents=True, exist_ok=True)
        running = self.compiler.running if self.compiler is not None else pdf._Running()  # one interrupt stops all
        fmt = None
        if engine == scripts.PDFLATEX:
            from qgen.render import formats

            fmt = formats.prepare(head, folder, "exam", running, self.timeout)
        texts = [stamp_document(head, at, chunk) for chunk in parts]

        def one(index: int) -> Path:
            return batch.compile_document(folder / f"stamps-{index + 1}", texts[index], head, fmt, self.timeout,
                                          running, engine)

        with ThreadPoolExecutor(max_workers=max(1, len(parts))) as threads:
            return list(threads.map(one, range(len(parts))))

    @property
    def stamp_rows(self) -> list[dict[str, str]]:
        """What each student's stamp page prints (plain text)."""
        return [{"name": s.name, "id": s.id, "place": s.place} for s in self.options.roster]

    @property
    def page_size(self) -> tuple[float, float]:
        return (612.0, 792.0) if self.bank.paper == "letter" else (595.276, 841.89)

    def write_stamp_tex(self, students: list[dict[str, str]]) -> Path:
        """The students' fields as one standalone document (what was put on their papers; without
        PDFs, without the fields' positions, which come from compiling the exams)."""
        if not self.stamp_text:
            groups = self.name_groups | self.groups
            head = preamble(self.context, key=False, qr=self.options.qr,
                            fonts=scripts.font_setup(groups) if groups else None)
            self.stamp_text = stamp_document(head, {}, self.stamp_rows)
        rel = Path("papers") / "stamps.tex"
        (self.staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.staging / rel).write_text(self.stamp_text, encoding="utf-8")
        return rel

    def _combined(self, students: list[dict[str, str]]) -> None:
        exams = [self.student_papers[str(self.staging / s["paper"])] for s in students] if students else \
            [self._cut(p.job, self.layouts[p.job.name]) for p in self.papers if p.job.kind == "exam"]
        keys = [self._cut(p.job, self.layouts[p.job.name]) for p in self.papers if p.job.kind == "key"]
        duplex = self.options.duplex
        self._submit(exams, 1, combined=(str(self.staging / "exams-all.pdf"), duplex))
        self._submit(keys, 1, combined=(str(self.staging / "keys-all.pdf"), duplex))


def _pool(jobs: int | None) -> ProcessPoolExecutor:
    """Worker processes for writing PDFs, started at once. On Linux they are forked from this
    process before any thread of the run exists (cheap: nothing to import again); elsewhere
    spawned. Their start is not left to the first finished LaTeX run, which would wait for it."""
    import multiprocessing
    import os
    import sys

    method = "fork" if sys.platform.startswith("linux") else "spawn"
    workers = max(1, jobs or os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))
    for _ in range(workers):  # every worker now, while no thread is running
        pool.submit(_ready)
    return pool


def _ready() -> None:
    """A worker's first task: import what writing PDFs needs."""
    import qgen.render.stamp  # noqa: F401


def _chunks(items: list[Any], n: int) -> list[list[Any]]:
    size = -(-len(items) // n)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _codes(exam_id: str, version: str, student: str | None) -> Callable[[int], tuple[str, ...]]:
    """The QR payloads of a paper of `pages` pages."""
    def make(pages: int) -> tuple[str, ...]:
        return tuple(payload(exam_id, version, page=n, student=student) for n in range(1, pages + 1))
    return make


def version_paper(bank: Bank, v: Version, exam: dict[str, Any], staging: Path, *, key: bool, qr: bool = False,
                  sheet: list[dict[str, Any]] | None = None) -> Paper:
    name = f"{'key' if key else 'exam'}-{v.id}"
    body = paper(exam, v.questions, name=name, key=key, answer_sheet=None if key else sheet)
    title = f"{bank.title}: {'answer key' if key else 'exam'}, version {v.id}"
    job = batch.PaperJob(name=name, kind="key" if key else "exam", body=body, dest=staging / f"{name}.pdf",
                         title=title, qr=_codes(bank.exam_id, v.id, None) if qr and not key else None)
    return Paper(job, v.id, Path(f"{name}.tex"))


def _targets(layouts: list[batch.PaperLayout]) -> dict[str, int]:
    """The page each question should start on (the latest any version starts it on), and the
    page the questions should end on ("end")."""
    numbers = sorted({q for layout in layouts for q in layout.starts})
    target = {str(q): max(layout.starts.get(q, 0) for layout in layouts) for q in numbers}
    target["end"] = max(layout.content for layout in layouts)
    return target


def _settled(layout: batch.PaperLayout, target: dict[str, int]) -> bool:
    return all(layout.starts.get(int(q)) == page for q, page in target.items() if q != "end")
