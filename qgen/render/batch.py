"""Many papers per LaTeX run: batch documents compiled in parallel, cut into one PDF each.

A course's papers share one preamble (the exam class, TikZ, fonts: most of a small run's time),
so they are compiled many to a document: each paper starts on page 1 and logs its pages to
<job>.qgl (see templates/document.tex.j2), and pypdf cuts the document into one PDF per paper.
Nothing reads the .aux: the one number a paper needs from a later pass, its page count ("Page 2
of 9"), is passed in as an expectation, and a batch runs a second time only when an expectation
was wrong. Expectations come from the first paper of each kind, which is compiled alone first,
so that all other batches usually need one pass.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from qgen.errors import RenderError
from qgen.render.pdf import _LOG_TAIL, _first_error, _run, _Running, require_tex

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
MAX_BATCH = 20  # papers per LaTeX run: enough to pay for the preamble, small enough to spread
MAX_PASSES = 3


@dataclass(frozen=True)
class PaperJob:
    """One paper to compile: `name` is its log name and PDF file stem (dest/name.pdf).

    `kind` picks the preamble ("exam", "key"); `pages` is the expected page count when known
    (fixed layout); `force` the pages questions must start on ((number or "end", page), …);
    `qr(pages)` the QR tables for a paper of that many pages (None: no codes).
    """

    name: str
    kind: str
    body: str
    dest: Path
    title: str = ""
    pages: int | None = None
    force: tuple[tuple[str, int], ...] = ()
    qr: Callable[[int], list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class PaperLayout:
    """Where a compiled paper's pages fell: its page count, the page its questions end on, and
    the page each question (numbered from 1) starts on."""

    pages: int
    content: int
    starts: dict[int, int]


@dataclass
class _Expect:
    """The page counts seen so far per kind, and whether the kind's first paper is done."""

    seen: dict[str, Counter] = field(default_factory=dict)
    ready: dict[str, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def guess(self, kind: str) -> int | None:
        with self.lock:
            counts = self.seen.get(kind)
            return counts.most_common(1)[0][0] if counts else None

    def saw(self, kind: str, pages: int) -> None:
        with self.lock:
            self.seen.setdefault(kind, Counter())[pages] += 1


def compile_papers(
    papers: list[PaperJob],
    preambles: dict[str, str],
    workdir: Path,
    *,
    jobs: int | None = None,
    timeout: float = 120,
    batch_size: int | None = None,
    on_done: Callable[[PaperJob], None] | None = None,
    engine: str = "pdflatex",
) -> dict[str, PaperLayout]:
    """Compile `papers` in batches (parallel runs of pdflatex, or lualatex, in `workdir`), write
    each paper's PDF to its `dest`, and return every paper's layout by name.

    A failure anywhere is one RenderError listing each failed batch with the paper, the line of
    that paper's own .tex and LaTeX's message; `workdir` keeps the failed batches' .tex and .log.
    """
    if jobs is not None and jobs < 1:
        raise RenderError(f"the number of parallel LaTeX jobs must be at least 1, not {jobs}")
    if not papers:
        return {}
    names = [p.name for p in papers]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise RenderError(f"two papers with one name: {', '.join(twice[:5])}")
    require_tex(engine)
    workers = max(1, jobs or os.cpu_count() or 1)
    batches = _batches(papers, workers, batch_size)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    expect = _Expect()
    for kind, batch in batches:
        if all(p.pages is None for p in batch):
            expect.ready.setdefault(kind, threading.Event())
    layouts: dict[str, PaperLayout] = {}
    failures: dict[int, str] = {}
    running = _Running()
    done_lock = threading.Lock()

    def run(index: int, kind: str, batch: list[PaperJob]) -> None:
        first = expect.ready.get(kind)
        probe = first is not None and not first.is_set() and index == _first_of(batches, kind)
        if first is not None and not probe:
            first.wait()
        try:
            got = _compile_batch(workdir / f"batch-{index + 1:03d}", batch, preambles[kind], expect, timeout,
                                 running, engine)
        finally:
            if probe:
                first.set()
        with done_lock:
            layouts.update(got)
        if on_done is not None:
            for p in batch:
                on_done(p)

    with ThreadPoolExecutor(max_workers=min(workers, len(batches))) as pool:
        futures = {pool.submit(run, i, kind, batch): i for i, (kind, batch) in enumerate(batches)}
        try:
            for future in as_completed(futures):
                try:
                    future.result()
                except RenderError as err:
                    failures[futures[future]] = str(err)
        except BaseException:  # e.g. KeyboardInterrupt: start no more runs, stop the rest
            for future in futures:
                future.cancel()
            running.stop_all()
            for event in expect.ready.values():
                event.set()
            raise
    if failures:
        count = sum(len(batches[i][1]) for i in failures)
        lines = [f"{len(failures)} of {len(batches)} LaTeX runs failed ({count} of {len(papers)} papers):"]
        lines += [f"  - {failures[i]}" for i in sorted(failures)]
        raise RenderError("\n".join(lines))
    return layouts


def _batches(papers: list[PaperJob], workers: int, size: int | None) -> list[tuple[str, list[PaperJob]]]:
    """Papers grouped by kind into runs; a kind with no expected page counts gets a first run of
    one paper, which the others wait for. About 3 runs per worker balance the load."""
    kinds: dict[str, list[PaperJob]] = {}
    for p in papers:
        kinds.setdefault(p.kind, []).append(p)
    size = size or max(1, min(MAX_BATCH, math.ceil(len(papers) / (3 * workers))))
    first: list[tuple[str, list[PaperJob]]] = []
    rest: list[tuple[str, list[PaperJob]]] = []
    for kind, group in kinds.items():
        if all(p.pages is None for p in group) and len(group) > 1:
            first.append((kind, group[:1]))
            group = group[1:]
        rest += [(kind, group[i:i + size]) for i in range(0, len(group), size)]
    return first + rest


def _first_of(batches: list[tuple[str, list[PaperJob]]], kind: str) -> int:
    return next(i for i, (k, _) in enumerate(batches) if k == kind)


def _compile_batch(stem: Path, batch: list[PaperJob], preamble: str, expect: _Expect, timeout: float,
                   running: _Running, engine: str = "pdflatex") -> dict[str, PaperLayout]:
    """One LaTeX document holding `batch`: compiled (again while a page count was expected
    wrong), split into the papers' PDFs; the batch's files are removed after."""
    from pypdf import PdfReader, PdfWriter

    from qgen.render.exam import assemble, tables

    guess = expect.guess(batch[0].kind)
    pages = {p.name: p.pages or guess for p in batch}
    tex = stem.with_suffix(".tex")
    for _ in range(MAX_PASSES):
        parts = [(tables(p.name, pages[p.name] or "?", p.force, p.qr(pages[p.name] or 12) if p.qr else ()), p.body)
                 for p in batch]
        text = assemble(preamble, parts)
        tex.write_text(text, encoding="utf-8")
        _run_pdflatex(tex, timeout, running, text, batch, engine)
        layouts = _read_page_log(stem.with_suffix(".qgl"), batch)
        wrong = {name for name, layout in layouts.items() if layout.pages != pages[name]}
        if not wrong:
            break
        pages.update({name: layouts[name].pages for name in wrong})
    else:
        raise RenderError(f"{tex.name}: the page counts of {', '.join(sorted(wrong)[:5])} did not settle "
                          f"in {MAX_PASSES} LaTeX passes")
    for layout in layouts.values():
        expect.saw(batch[0].kind, layout.pages)

    reader = PdfReader(stem.with_suffix(".pdf"))
    total = sum(layout.pages for layout in layouts.values())
    if len(reader.pages) != total:
        raise RenderError(f"{tex.name}: the PDF has {len(reader.pages)} pages, the papers' log {total}")
    at = 0
    for p in batch:
        writer = PdfWriter()
        for page in reader.pages[at:at + layouts[p.name].pages]:
            writer.add_page(page)
        at += layouts[p.name].pages
        writer.add_metadata({"/Title": p.title or p.name, "/Creator": "qgen"})
        p.dest.parent.mkdir(parents=True, exist_ok=True)
        with open(p.dest, "wb") as f:
            writer.write(f)
    for suffix in (".tex", ".pdf", ".log", ".aux", ".qgl", ".out"):
        stem.with_suffix(suffix).unlink(missing_ok=True)
    return layouts


def _run_pdflatex(tex: Path, timeout: float, running: _Running, text: str, batch: list[PaperJob],
                  engine: str = "pdflatex") -> None:
    """One pdflatex (or lualatex) pass over a batch document; a failure names the paper and its own line."""
    done = _run(_COMMANDS[engine], tex, timeout, running)
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
    paper = _paper_at(text, int(line)) if line and file in (None, f"./{tex.name}", tex.name) else None
    if paper is not None:
        name, own = paper
        where = f"{name}.tex:{own} (in {where})"
    head = f"{where}: {message or 'LaTeX failed.'}"
    if context:
        head += f" Near `{context}`."
    raise RenderError(f"{head} Full log: {log}")


def _paper_at(text: str, line: int) -> tuple[str, int] | None:
    r"""The paper whose body holds `line` of a batch document, and the line in the paper's own
    .tex, where (see exam.assemble) the body starts two lines after \begin{document}."""
    lines = text.splitlines()
    begin = lines.index(r"\begin{document}")  # 0-based, the same in the paper's own .tex
    start, name = None, None
    for number in range(begin, min(line, len(lines))):
        found = re.match(r"\\qgenbeginpaper\{([^}]*)\}", lines[number])
        if found:
            start, name = number, found[1]
    if name is None:
        return None
    return name, (begin + 2) + (line - 1 - start) + 1


def _names(batch: list[PaperJob]) -> str:
    return batch[0].name if len(batch) == 1 else f"{batch[0].name} … {batch[-1].name}"


def _read_page_log(path: Path, batch: list[PaperJob]) -> dict[str, PaperLayout]:
    """The .qgl lines back as each paper's layout."""
    starts: dict[str, dict[int, int]] = {p.name: {} for p in batch}
    content: dict[str, int] = {}
    pages: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split()
        if fields[:1] == ["question"] and len(fields) == 4 and fields[1] in starts:
            starts[fields[1]].setdefault(int(fields[2]), int(fields[3]))
        elif fields[:1] == ["content"] and len(fields) == 3:
            content[fields[1]] = int(fields[2])
        elif fields[:1] == ["end"] and len(fields) == 3:
            pages[fields[1]] = int(fields[2])
    missing = [p.name for p in batch if p.name not in pages]
    if missing:
        raise RenderError(f"{path.name}: no page count logged for {', '.join(missing[:5])}")
    return {p.name: PaperLayout(pages[p.name], content.get(p.name, pages[p.name]), starts[p.name]) for p in batch}
