r"""Many papers per LaTeX run, compiled while later papers are still being written.

A course's papers share one preamble, so they are compiled many to a document: each paper starts
on page 1 and logs its pages, question starts and field positions to <job>.qgl (see
templates/document.tex.j2). The preamble is dumped once as a format (qgen.render.formats) and
every figure is drawn once per document (\qgensharefigures): most of a paper's LaTeX time was
the preamble and TikZ.

`Compiler` takes papers as they come (`add`) and runs `jobs` pdflatex processes at a time, each on
the papers waiting of one kind, so LaTeX starts on the first versions while the later ones are
being solved. Every paper is compiled once: the one thing a paper's pages would need from a
later pass, "Page 2 of 9", is left out of qgen's own documents (\qgenpagelabelslater) and put on
afterwards from a small document of page labels (qgen.render.labels). A compiled paper is pages of
its batch's PDF (PaperLayout.source): qgen.render.stamp cuts them out and puts the page labels,
QR codes and students' fields on, in worker processes.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qgen.errors import RenderError
from qgen.render import formats
from qgen.render.pdf import _LOG_TAIL, _first_error, _run, _Running, require_tex

if TYPE_CHECKING:
    from qgen.render import stamp

_PDFLATEX = (
    "pdflatex",
    "-no-shell-escape",
    "-interaction=nonstopmode",
    "-halt-on-error",
    "-file-line-error",
)
# LuaLaTeX (names beyond pdflatex's fonts, see qgen.render.scripts): the same rules, no Lua sockets.
_LUALATEX = ("lualatex", "--nosocket", *_PDFLATEX[1:])
_COMMANDS = {"pdflatex": _PDFLATEX, "lualatex": _LUALATEX}
MAX_BATCH = 40  # papers per LaTeX run: enough to pay for a run, small enough to spread
MIN_BATCH = 8
MIN_RUN = 4  # papers an idle worker waits for before a run smaller than a full one: a run costs ~0.1 s to start
# In qgen's own documents: a figure drawn once per run, and the page labels put on afterwards.
OWN = r"\def\qgensharefigures{}\def\qgenpagelabelslater{}"


@dataclass(frozen=True)
class PaperJob:
    """One paper to compile: `name` is its log name and PDF file stem (dest/name.pdf).

    `kind` picks the preamble ("exam", "key"); `force` the pages questions must start on
    ((number or "end", page), …); `qr(pages)` the QR payloads of its pages (None: no codes).
    """

    name: str
    kind: str
    body: str
    dest: Path
    title: str = ""
    force: tuple[tuple[str, int], ...] = ()
    qr: Callable[[int], tuple[str, ...]] | None = None


@dataclass(frozen=True)
class PaperLayout:
    """Where a compiled paper's pages fell: its page count, the page its questions end on, the
    page each question (numbered from 1) starts on, where its fields are ({field: (page, x sp,
    y sp)}), and its pages in a batch PDF (path, index of its first page)."""

    pages: int
    content: int
    starts: dict[int, int]
    fields: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    source: tuple[Path, int] | None = None


def compile_papers(
    papers: list[PaperJob],
    preambles: dict[str, str],
    workdir: Path,
    *,
    jobs: int | None = None,
    timeout: float = 120,
    batch_size: int | None = None,
    engine: str = "pdflatex",
) -> dict[str, PaperLayout]:
    """Compile `papers` (all known at once), write each one's PDF to its `dest` (QR codes on),
    and return every paper's layout by name."""
    from qgen.render import stamp

    compiler = Compiler(preambles, workdir, jobs=jobs, timeout=timeout, batch_size=batch_size, engine=engine,
                        totals=Counter(p.kind for p in papers))
    for p in papers:
        compiler.add(p)
    layouts = compiler.close()
    from qgen.render.labels import Labels

    labels = Labels(compiler)
    stamp.write_papers([cut(p, layouts[p.name], pieces=labels.pieces(p.kind, layouts[p.name].pages))
                        for p in papers])
    return layouts


def cut(job: PaperJob, layout: PaperLayout, **extra) -> stamp.Paper:
    """What qgen.render.stamp needs to write `job`'s PDF from its batch's pages."""
    from qgen.render import stamp

    assert layout.source is not None
    source, first = layout.source
    return stamp.Paper(dest=str(job.dest), source=str(source), first=first, count=layout.pages,
                       title=job.title or job.name, qr=tuple(job.qr(layout.pages)) if job.qr else (), **extra)


class Compiler:
    """Papers compiled in batches by `jobs` parallel LaTeX runs as they are added.

    `totals` (papers expected per kind) sizes the batches; `on_batch(done)` is called from a
    compiling thread with the (job, layout) pairs of each run. `close()` waits for the rest and
    returns every layout, or raises one RenderError naming each failed run's paper and line.
    """

    def __init__(self, preambles: dict[str, str], workdir: Path, *, jobs: int | None = None, timeout: float = 120,
                 engine: str = "pdflatex", totals: dict[str, int] | None = None, batch_size: int | None = None,
                 on_batch: Callable[[list[tuple[PaperJob, PaperLayout]]], None] | None = None,
                 warm: bool = False, on_warm: Callable[[str], None] | None = None, start: bool = True) -> None:
        if jobs is not None and jobs < 1:
            raise RenderError(f"the number of parallel LaTeX jobs must be at least 1, not {jobs}")
        require_tex(engine)
        self.preambles, self.engine, self.timeout, self.on_batch = preambles, engine, timeout, on_batch
        self.on_warm = on_warm  # called by a thread with its kind, once the format is ready: work for idle cores
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workers = max(1, jobs or os.cpu_count() or 1)
        self.batch_size = batch_size
        self.totals = dict(totals or {})
        self.coming = Counter(self.totals)  # papers not yet added, per kind
        self.started: Counter = Counter()  # runs started, per kind
        self.pending: dict[str, list[PaperJob]] = {}
        self.names: set[str] = set()
        self.fmt: dict[str, str | None] = {}
        self.fmt_ready: dict[str, threading.Event] = {}
        self.layouts: dict[str, PaperLayout] = {}
        self.failures: list[str] = []
        self.runs = 0
        self.closed = False
        self.busy = 0
        self.cond = threading.Condition()
        self.running = _Running()
        kinds = list(preambles) if warm and engine == "pdflatex" else []
        self.threads = [threading.Thread(target=self._work, args=(kinds[i] if i < len(kinds) else None,),
                                         name=f"qgen-latex-{i}", daemon=True) for i in range(self.workers)]
        if start:
            self.start()

    def start(self) -> None:
        """Start the compiling threads (done by the constructor unless start=False)."""
        for thread in self.threads:
            thread.start()

    # -- the caller's side ------------------------------------------------------------------
    def add(self, job: PaperJob) -> None:
        with self.cond:
            if job.name in self.names:
                raise RenderError(f"two papers with one name: {job.name}")
            self.names.add(job.name)
            self.pending.setdefault(job.kind, []).append(job)
            self.coming[job.kind] = max(0, self.coming[job.kind] - 1)
            self.cond.notify_all()

    def close(self) -> dict[str, PaperLayout]:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        try:
            for thread in self.threads:
                while thread.is_alive():
                    thread.join(0.2)
        except BaseException:  # e.g. KeyboardInterrupt: start no more runs, stop the rest
            self.cancel()
            raise
        if self.failures:
            lost = len(self.names) - len(self.layouts)
            head = f"{len(self.failures)} of {self.runs} LaTeX runs failed ({lost} of {len(self.names)} papers"
            lines = [f"{head} not compiled):"]
            lines += [f"  - {f}" for f in sorted(self.failures)]
            raise RenderError("\n".join(lines))
        return dict(self.layouts)

    def cancel(self) -> None:
        with self.cond:
            self.closed = True
            self.failures.append("stopped")
            self.pending.clear()
            self.cond.notify_all()
        self.running.stop_all()

    # -- the compiling threads --------------------------------------------------------------
    def _work(self, warm: str | None = None) -> None:
        """A compiling thread: runs until the papers are all compiled (or a run failed). `warm`: a
        kind whose format this thread prepares first, before any paper is there to compile."""
        if warm is not None:
            try:
                self.format_for(warm)
                if self.on_warm is not None:
                    self.on_warm(warm)
            except BaseException as err:  # noqa: BLE001 (never leave the caller waiting on a dead thread)
                self._failed(f"{type(err).__name__}: {err}")
        while True:
            with self.cond:
                taken = self._take()
                while taken is None:
                    if self.failures or (self.closed and not any(self.pending.values()) and self.busy == 0):
                        self.cond.notify_all()
                        return
                    self.cond.wait(0.5)
                    taken = self._take()
                kind, batch = taken
                self.busy += 1
                self.runs += 1
                index = self.runs
            try:
                self._compile(index, kind, batch)
            except RenderError as err:
                self._failed(str(err))
            except BaseException as err:  # noqa: BLE001 (never leave the caller waiting on a dead thread)
                self._failed(f"{type(err).__name__}: {err}")
            finally:
                with self.cond:
                    self.busy -= 1
                    self.cond.notify_all()

    def _failed(self, message: str) -> None:
        with self.cond:
            self.failures.append(message)
            self.pending.clear()
            self.closed = True

    def _size(self, kind: str) -> int:
        """Papers per run: about two runs per worker and kind, to pay for each run's start, and at
        least MIN_BATCH (a small set's runs would be mostly start)."""
        if self.batch_size:
            return self.batch_size
        return max(MIN_BATCH, min(MAX_BATCH, math.ceil(self.totals.get(kind, MAX_BATCH) / (2 * self.workers))))

    def _take(self) -> tuple[str, list[PaperJob]] | None:
        """The next run, (kind, papers), or None to wait for more papers. A full run when there is
        one; else, rather than leave a core idle while versions are still being solved, the papers
        waiting (at least MIN_RUN of them): LaTeX starts on the first versions at once."""
        if self.failures:
            return None
        kinds = sorted(self.pending, key=lambda k: (-len(self.pending[k]), self.started[k]))
        for kind in kinds:
            queue = self.pending[kind]
            size = self._size(kind)
            if queue and (len(queue) >= min(size, MIN_RUN) or self.closed or self.coming[kind] == 0):
                batch, self.pending[kind] = queue[:size], queue[size:]
                self.started[kind] += 1
                return kind, batch
        return None

    def format_for(self, kind: str) -> str | None:
        """The kind's format, made by the first thread that needs it (the others wait for it)."""
        if self.engine != "pdflatex":
            return None
        with self.cond:
            ready = self.fmt_ready.get(kind)
            mine = ready is None
            if mine:
                ready = self.fmt_ready[kind] = threading.Event()
        if mine:
            try:
                self.fmt[kind] = formats.prepare(self.preambles[kind], self.workdir, kind, self.running,
                                                 self.timeout)
            finally:
                ready.set()
        ready.wait()
        return self.fmt.get(kind)

    def _compile(self, index: int, kind: str, batch: list[PaperJob]) -> None:
        stem = self.workdir / f"batch-{index:03d}"
        got = _compile_batch(stem, batch, self.preambles[kind], self.format_for(kind), self.timeout, self.running,
                             self.engine)
        done = [(p, got[p.name]) for p in batch]
        with self.cond:
            self.layouts.update(got)
        if self.on_batch is not None:
            self.on_batch(done)


def _compile_batch(stem: Path, batch: list[PaperJob], preamble: str, fmt: str | None, timeout: float,
                   running: _Running, engine: str) -> dict[str, PaperLayout]:
    """One LaTeX pass over a document of `batch` (with the format `fmt`, else the preamble): each
    paper's layout, its pages in stem.pdf. The .tex and log go; the PDF stays for the papers."""
    from qgen.render.exam import assemble, tables

    parts = [(tables(p.name, "?", p.force), p.body) for p in batch]
    text = assemble(preamble, parts).replace("\\begin{document}", OWN + "\n\\begin{document}", 1)
    if fmt is not None:
        text = text[text.index("\\begin{document}") - len(OWN) - 1:]
    tex = stem.with_suffix(".tex")
    tex.write_text(text, encoding="utf-8")
    _run_pdflatex(tex, timeout, running, text, batch, preamble, engine, fmt)
    layouts = _read_page_log(stem.with_suffix(".qgl"), batch)
    at = 0
    for p in batch:
        layouts[p.name] = replace(layouts[p.name], source=(stem.with_suffix(".pdf"), at))
        at += layouts[p.name].pages
    for suffix in (".tex", ".log", ".aux", ".qgl", ".out"):
        stem.with_suffix(suffix).unlink(missing_ok=True)
    return layouts


def compile_document(stem: Path, text: str, preamble: str, fmt: str | None, timeout: float, running: _Running,
                     engine: str = "pdflatex") -> Path:
    """One LaTeX pass over a whole document `text` (which starts with `preamble`; with the format
    `fmt`, the preamble is not run again): its PDF, stem.pdf."""
    if fmt is not None:
        text = text[text.index("\\begin{document}"):]
    tex = stem.with_suffix(".tex")
    tex.write_text(text, encoding="utf-8")
    _run_pdflatex(tex, timeout, running, text, [], preamble, engine, fmt)
    for suffix in (".log", ".aux", ".qgl", ".out"):
        stem.with_suffix(suffix).unlink(missing_ok=True)
    return stem.with_suffix(".pdf")


def _run_pdflatex(tex: Path, timeout: float, running: _Running, text: str, batch: list[PaperJob],
                  preamble: str, engine: str = "pdflatex", fmt: str | None = None) -> None:
    """One pdflatex (or lualatex) pass over a batch document; a failure names the paper and its own line."""
    command = _COMMANDS[engine] if fmt is None else (_COMMANDS[engine][0], f"-fmt={fmt}", *_COMMANDS[engine][1:])
    done = _run(command, tex, timeout, running)
    if done is None:
        raise RenderError(f"{tex.name} ({_names(batch)}): LaTeX exceeded {timeout:g} seconds and was stopped "
                          f"(partial log: {tex.with_suffix('.log')})")
    returncode, output = done
    if returncode == 0 and tex.with_suffix(".pdf").is_file():
        return
    log = tex.with_suffix(".log")
    if not log.is_file():
        tail = "\n".join(output.strip().splitlines()[-_LOG_TAIL:])
        raise RenderError(f"{tex.name}: {engine} failed before it wrote a log:\n{tail}")
    file, line, message, context = _first_error(log.read_text(encoding="utf-8", errors="replace").splitlines())
    where = f"{tex.name}:{line}" if line else tex.name
    own_begin = len(preamble.rstrip("\n").splitlines())
    paper = _paper_at(text, int(line), own_begin) if line and file in (None, f"./{tex.name}", tex.name) else None
    if paper is not None:
        name, own = paper
        where = f"{name}.tex:{own} (in {where})"
    head = f"{where}: {message or 'LaTeX failed.'}"
    if context:
        head += f" Near `{context}`."
    raise RenderError(f"{head} Full log: {log}")


def _paper_at(text: str, line: int, own_begin: int) -> tuple[str, int] | None:
    r"""The paper whose body holds `line` of a batch document, and the line in the paper's own
    .tex, where (see exam.assemble) the body starts two lines after \begin{document}, which is
    its line `own_begin` (0-based: the preamble's line count)."""
    lines = text.splitlines()
    begin = lines.index(r"\begin{document}")
    start, name = None, None
    for number in range(begin, min(line, len(lines))):
        found = re.match(r"\\qgenbeginpaper\{([^}]*)\}", lines[number])
        if found:
            start, name = number, found[1]
    if name is None:
        return None
    return name, (own_begin + 2) + (line - 1 - start) + 1


def _names(batch: list[PaperJob]) -> str:
    if not batch:
        return "no paper"
    return batch[0].name if len(batch) == 1 else f"{batch[0].name} … {batch[-1].name}"


def _read_page_log(path: Path, batch: list[PaperJob]) -> dict[str, PaperLayout]:
    """The .qgl lines back as each paper's layout."""
    starts: dict[str, dict[int, int]] = {p.name: {} for p in batch}
    content: dict[str, int] = {}
    pages: dict[str, int] = {}
    where: dict[str, dict[str, tuple[int, int, int]]] = {p.name: {} for p in batch}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split()
        if fields[:1] == ["pos"] and len(fields) == 6 and fields[1] in where and all(
                f.lstrip("-").isdigit() for f in fields[3:]):
            where[fields[1]].setdefault(fields[2], (int(fields[3]), int(fields[4]), int(fields[5])))
            continue
        if fields[:1] == ["question"] and len(fields) == 4 and fields[1] in starts:
            starts[fields[1]].setdefault(int(fields[2]), int(fields[3]))
        elif fields[:1] == ["content"] and len(fields) == 3:
            content[fields[1]] = int(fields[2])
        elif fields[:1] == ["end"] and len(fields) == 3:
            pages[fields[1]] = int(fields[2])
    missing = [p.name for p in batch if p.name not in pages]
    if missing:
        raise RenderError(f"{path.name}: no page count logged for {', '.join(missing[:5])}")
    return {p.name: PaperLayout(pages[p.name], content.get(p.name, pages[p.name]), starts[p.name], where[p.name])
            for p in batch}
