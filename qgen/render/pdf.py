"""Compile .tex files to PDF with latexmk + pdflatex (or LuaLaTeX): the only place qgen runs a subprocess.

Shell escape is off (`\\write18` does nothing), TeX may read and write only in the document's
folder, besides reading its own installed files (`openin_any=p`, `openout_any=p`: no absolute
path, no `..`, no dot file), every run has a time limit, and a failure is a RenderError that
names the file, the line and LaTeX's message. LuaLaTeX (for text beyond pdflatex's fonts, see
qgen.render.scripts) runs under the same rules, and without Lua's socket library.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from qgen.errors import RenderError

TEX_PACKAGES = (
    "texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-pictures latexmk"
)

# latexmk passes the engine options on to pdflatex through %O; -no-shell-escape is also
# written into the engine command itself, so an rc file or a texmf.cnf cannot turn it on.
_LATEXMK = (
    "latexmk",
    "-norc",
    "-pdf",
    "-interaction=nonstopmode",
    "-halt-on-error",
    "-file-line-error",
    "-no-shell-escape",
    "-pdflatex=pdflatex -no-shell-escape %O %S",
)
_LATEXMK_LUA = (
    *(arg for arg in _LATEXMK if arg not in ("-pdf",) and not arg.startswith("-pdflatex=")),
    "-lualatex",
    "-lualatex=lualatex -no-shell-escape --nosocket %O %S",
)
ENGINES = ("pdflatex", "lualatex")

# Files latexmk/pdflatex leave beside the PDF that are removed after a successful run.
_AUX_SUFFIXES = (".aux", ".log", ".fls", ".fdb_latexmk", ".out", ".toc", ".synctex.gz")
# After a failure only the .log stays, so that the message can point at it.
_FAILED_LEFTOVERS = (".pdf", *(s for s in _AUX_SUFFIXES if s != ".log"))

# `./exam-1.tex:42: Undefined control sequence.` (the -file-line-error form).
_FILE_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<msg>.*\S)\s*$")
# `! Undefined control sequence.` then, a few lines on, `l.42 \foo`.
_BANG = re.compile(r"^! (?P<msg>.*\S)\s*$")
_LNUM = re.compile(r"^l\.(?P<line>\d+)(?P<ctx>.*)$")

_LOG_TAIL = 15


def require_tex(engine: str = "pdflatex") -> None:
    """Raise RenderError unless latexmk and the engine (pdflatex or lualatex) are on PATH."""
    if engine not in ENGINES:
        raise RenderError(f"TeX engine {engine!r}: use one of {', '.join(ENGINES)}")
    missing = [tool for tool in ("latexmk", engine) if shutil.which(tool) is None]
    if missing:
        raise RenderError(
            f"cannot make PDFs: {' and '.join(missing)} not found on PATH. "
            f"Install TeX with `apt-get install {TEX_PACKAGES}` "
            "(or run `bash scripts/bootstrap.sh`), or pass --no-pdf to write the .tex files only."
        )


def lualatex_missing() -> list[str]:
    """What LuaLaTeX with fontspec needs and this system lacks: "lualatex" (not on PATH), or the
    TeX files of texlive-luatex and fontspec (luaotfload.sty, fontspec.sty); [] when all is there."""
    if shutil.which("lualatex") is None:
        return ["lualatex"]
    wanted = ("luaotfload.sty", "fontspec.sty")
    if shutil.which("kpsewhich") is None:
        return list(wanted)
    try:
        found = subprocess.run(["kpsewhich", *wanted], env=_tex_env(), stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return list(wanted)
    return [name for name in wanted if name not in found]


def compile_pdf(tex_path: Path, *, timeout: float = 120, engine: str = "pdflatex") -> Path:
    """Compile one .tex file in its own folder and return the PDF beside it."""
    return _compile(tex_path, timeout, _Running(), engine)


class _Running:
    """The latexmk processes of one call, so that an interrupt can stop them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self.stopped = False

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)
            if self.stopped:
                _kill_group(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def stop_all(self) -> None:
        with self._lock:
            self.stopped = True
            for proc in self._procs:
                _kill_group(proc)


def _compile(tex_path: Path, timeout: float, running: _Running, engine: str = "pdflatex") -> Path:
    """compile_pdf, recording the process in `running` while it lives."""
    require_tex(engine)
    tex_path = Path(tex_path).resolve()
    if not tex_path.is_file():
        raise RenderError(f"{tex_path}: no such .tex file")
    folder, stem = tex_path.parent, tex_path.stem
    pdf_path = folder / f"{stem}.pdf"
    log_path = folder / f"{stem}.log"
    _remove(folder, stem, (".pdf", *_AUX_SUFFIXES))

    done = _run(_LATEXMK_LUA if engine == "lualatex" else _LATEXMK, tex_path, timeout, running)
    if done is None:
        _remove(folder, stem, _FAILED_LEFTOVERS)
        where = f" (partial log: {log_path})" if log_path.is_file() else ""
        raise RenderError(f"{tex_path.name}: LaTeX exceeded {timeout:g} seconds and was stopped{where}")
    returncode, output = done
    if returncode != 0 or not pdf_path.is_file():
        _remove(folder, stem, _FAILED_LEFTOVERS)
        raise RenderError(_failure_message(tex_path, log_path, output))

    _clean_aux(folder, stem)
    return pdf_path


def _run(command: tuple[str, ...], tex: Path, timeout: float, running: _Running,
         append: bool = True) -> tuple[int, str] | None:
    """Run a TeX command on `tex` in its folder: (exit code, output), or None after a timeout
    (the process group killed). An interrupt kills it too, so no pdflatex is left behind.
    `append=False`: `command` is the whole command line, run in the folder `tex`."""
    proc = subprocess.Popen(
        [*command, tex.name] if append else list(command),
        cwd=tex.parent if append else tex,
        env=_tex_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so a timeout kills pdflatex too
    )
    running.add(proc)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        return None
    except BaseException:  # e.g. KeyboardInterrupt
        _kill_group(proc)
        proc.wait()
        raise
    finally:
        running.discard(proc)
    return proc.returncode, (stdout + stderr).decode("utf-8", errors="replace")


def compile_many(
    paths: list[Path],
    *,
    jobs: int | None = None,
    timeout: float = 120,
    on_done: Callable[[Path], None] | None = None,
    engine: str = "pdflatex",
) -> list[Path]:
    """Compile several .tex files in parallel; return their PDFs in input order."""
    if jobs is not None and jobs < 1:
        raise RenderError(f"the number of parallel LaTeX jobs must be at least 1, not {jobs}")
    if not paths:
        return []
    require_tex(engine)
    workers = min(jobs or os.cpu_count() or 1, len(paths))
    pdfs: dict[int, Path] = {}
    failures: dict[int, str] = {}
    running = _Running()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(_compile, Path(path), timeout, running, engine): index
            for index, path in enumerate(paths)
        }
        try:
            for future in as_completed(futures):
                index = futures[future]
                try:
                    pdfs[index] = future.result()
                except RenderError as err:
                    failures[index] = str(err)
                    continue
                if on_done is not None:
                    on_done(pdfs[index])
        except BaseException:  # e.g. KeyboardInterrupt: start no more runs, stop the rest
            for future in futures:
                future.cancel()
            running.stop_all()
            raise
    if failures:
        lines = [f"{len(failures)} of {len(paths)} LaTeX files failed to compile:"]
        lines += [f"  - {failures[i]}" for i in sorted(failures)]
        raise RenderError("\n".join(lines))
    return [pdfs[i] for i in range(len(paths))]


def _tex_env() -> dict[str, str]:
    """The environment for latexmk: reads and writes only in the job's folder (and TeX's own files:
    no absolute path, no `..`, no dot file), unwrapped log lines."""
    env = dict(os.environ)
    env["openout_any"] = "p"
    env["openin_any"] = "p"
    env["max_print_line"] = "10000"
    return env


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill latexmk and every pdflatex it started."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _remove(folder: Path, stem: str, suffixes: tuple[str, ...]) -> None:
    """Delete `stem + suffix` in folder for each suffix, where present."""
    for suffix in suffixes:
        (folder / f"{stem}{suffix}").unlink(missing_ok=True)


def _clean_aux(folder: Path, stem: str) -> None:
    """Delete what the run wrote besides the PDF (the .fls names every written file)."""
    fls = folder / f"{stem}.fls"
    if fls.is_file():
        for line in fls.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.startswith("OUTPUT "):
                continue
            written = (folder / line[len("OUTPUT ") :]).resolve()
            if written.parent == folder and written.suffix != ".pdf":
                written.unlink(missing_ok=True)
    _remove(folder, stem, _AUX_SUFFIXES)


def _failure_message(tex_path: Path, log_path: Path, output: str) -> str:
    """Explain a failed run: file, line and LaTeX's message, and where the log is."""
    if not log_path.is_file():
        tail = "\n".join(output.strip().splitlines()[-_LOG_TAIL:])
        return f"{tex_path.name}: latexmk failed before LaTeX wrote a log:\n{tail}"
    log = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    file, line, message, context = _first_error(log)
    name = tex_path.name if file in (None, f"./{tex_path.name}", tex_path.name) else file
    at = f"{name}:{line}" if line else name
    head = f"{at}: {message or 'LaTeX failed.'}"
    if context:
        head += f" Near `{context}`."
    if name != tex_path.name:
        head = f"{tex_path.name}: {head}"
    return f"{head} Full log: {log_path}"


def _first_error(log: list[str]) -> tuple[str | None, str | None, str | None, str | None]:
    """The first error in a pdflatex log as (file, line, message, source context)."""
    for i, text in enumerate(log):
        found = _FILE_LINE.match(text)
        bang = _BANG.match(text)
        if found is None and bang is None:
            continue
        file = found["file"] if found else None
        line = found["line"] if found else None
        message = (found or bang)["msg"]
        context = None
        for after in log[i + 1 : i + 12]:
            lnum = _LNUM.match(after)
            if lnum:
                line = line or lnum["line"]
                context = lnum["ctx"].strip() or None
                break
        return file, line, message, context
    return None, None, None, None



# -- figures alone, as images (for `qgen export`) -----------------------------------------------
FIGURE_PREAMBLE = r"""\documentclass[tikz,border=4pt]{standalone}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\usepackage{xcolor}
\usetikzlibrary{positioning,arrows.meta}"""
_PDFTOPPM = ("pdftoppm", "-png", "-r", "144")


def figures_missing() -> list[str]:
    """The tools `figure_pngs` needs that are not on PATH ([] when it can run)."""
    return [tool for tool in ("latexmk", "pdflatex", "pdftoppm") if shutil.which(tool) is None]


def figure_pngs(pictures: list[str], *, preamble: str = FIGURE_PREAMBLE, timeout: float = 120) -> list[bytes]:
    """Each `tikzpicture` (LaTeX text) drawn alone as PNG bytes, in order: one standalone document (a page per
    picture) compiled by `compile_pdf`'s rules (no shell escape, reads and writes only its own folder, a time
    limit), then `pdftoppm -png` under the same time limit. A failure is a RenderError."""
    import tempfile

    if not pictures:
        return []
    missing = figures_missing()
    if missing:
        raise RenderError(f"cannot draw figures: {' and '.join(missing)} not found on PATH "
                          f"(apt-get install {TEX_PACKAGES} poppler-utils)")
    body = f"{preamble}\n\\begin{{document}}\n" + "\n".join(pictures) + "\n\\end{document}\n"
    with tempfile.TemporaryDirectory(prefix="qgen-fig-") as tmp:
        tex = Path(tmp) / "figures.tex"
        tex.write_text(body, encoding="utf-8")
        pdf = compile_pdf(tex, timeout=timeout)
        done = _run((*_PDFTOPPM, pdf.name, "page"), Path(tmp), timeout, _Running(), append=False)
        if done is None:
            raise RenderError(f"pdftoppm exceeded {timeout:g} seconds and was stopped")
        code, output = done
        pages = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        if code != 0 or len(pages) != len(pictures):
            raise RenderError(f"pdftoppm made {len(pages)} of {len(pictures)} figures (exit {code}): "
                              f"{output.strip()[-300:]}")
        return [p.read_bytes() for p in pages]
