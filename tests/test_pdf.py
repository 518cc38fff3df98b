"""qgen.render.pdf: latexmk runs safely, fails clearly and in parallel."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from qgen.errors import RenderError
from qgen.render.pdf import compile_many, compile_pdf, require_tex

needs_latex = pytest.mark.skipif(
    shutil.which("latexmk") is None or shutil.which("pdflatex") is None,
    reason="latexmk/pdflatex not installed (run `bash scripts/bootstrap.sh`)",
)

PREAMBLE = r"""\documentclass{exam}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{amsmath}
\usepackage{xcolor}
\usepackage{tikz}
\usepackage[margin=2cm]{geometry}
\begin{document}
"""


def write_tex(folder: Path, name: str, body: str) -> Path:
    """Write a document with the exam preamble and `body`; return its path."""
    path = folder / name
    path.write_text(PREAMBLE + body + "\n\\end{document}\n", encoding="utf-8")
    return path


def processes_working_in(folder: Path) -> list[int]:
    """The ids of the processes whose current directory is `folder`, read from /proc."""
    pids = []
    for cwd in Path("/proc").glob("[0-9]*/cwd"):
        try:
            if cwd.resolve(strict=True) == folder.resolve():
                pids.append(int(cwd.parent.name))
        except OSError:
            continue
    return pids


def good_body(word: str) -> str:
    """A small question that uses math, colour and TikZ, and says `word`."""
    return (
        "\\begin{questions}\n"
        f"\\question[2] {word}: compute $\\sigma(z) = \\frac{{1}}{{1+e^{{-z}}}}$ "
        "\\textcolor{blue}{now}. \\tikz\\draw (0,0) -- (1,1);\n"
        "\\end{questions}"
    )


@pytest.mark.latex
@needs_latex
def test_exam_document_compiles_to_pdf_with_its_text(tmp_path: Path) -> None:
    pdf = compile_pdf(write_tex(tmp_path, "exam-1.tex", good_body("Zebrafish")))
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed; compiled but text not checked")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Zebrafish" in text


@pytest.mark.latex
@needs_latex
def test_successful_compile_leaves_only_tex_and_pdf(tmp_path: Path) -> None:
    compile_pdf(write_tex(tmp_path, "exam-1.tex", good_body("Clean")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exam-1.pdf", "exam-1.tex"]


@pytest.mark.latex
@needs_latex
def test_undefined_control_sequence_names_file_line_and_message(tmp_path: Path) -> None:
    tex = write_tex(tmp_path, "exam-2.tex", "Fine line.\n\\nosuchmacro{x}")
    with pytest.raises(RenderError) as exc:
        compile_pdf(tex)
    # The body starts on the line after the preamble's 8 lines.
    assert "exam-2.tex:10: Undefined control sequence" in str(exc.value)


@pytest.mark.latex
@needs_latex
def test_failure_keeps_the_log_and_says_where(tmp_path: Path) -> None:
    tex = write_tex(tmp_path, "exam-3.tex", "\\nosuchmacro")
    with pytest.raises(RenderError) as exc:
        compile_pdf(tex)
    assert str(tmp_path / "exam-3.log") in str(exc.value)
    assert (tmp_path / "exam-3.log").is_file()


@pytest.mark.latex
@needs_latex
def test_failure_leaves_no_pdf(tmp_path: Path) -> None:
    tex = write_tex(tmp_path, "exam-4.tex", "page one\\newpage page two \\nosuchmacro")
    with pytest.raises(RenderError):
        compile_pdf(tex)
    assert not (tmp_path / "exam-4.pdf").exists()


@pytest.mark.latex
@needs_latex
def test_write18_does_not_run_a_shell_command(tmp_path: Path) -> None:
    tex = write_tex(
        tmp_path, "evil.tex", "\\immediate\\write18{touch pwned}\\write18{touch pwned2}Hi"
    )
    compile_pdf(tex)
    assert list(tmp_path.glob("pwned*")) == []


@pytest.mark.latex
@needs_latex
def test_shell_escape_is_fully_off_not_restricted(tmp_path: Path) -> None:
    # \pdfshellescape is 0 when off, 2 in restricted mode (a whitelist), 1 when on.
    tex = write_tex(
        tmp_path,
        "escape.tex",
        "\\ifnum\\pdfshellescape=0 off\\else\\errmessage{shell escape on}\\fi",
    )
    assert compile_pdf(tex).is_file()


@pytest.mark.latex
@needs_latex
def test_tex_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    tex = write_tex(
        inner,
        "escape.tex",
        "\\newwrite\\f\\immediate\\openout\\f=../outside.txt"
        "\\immediate\\write\\f{x}\\immediate\\closeout\\f Hi",
    )
    with pytest.raises(RenderError):
        compile_pdf(tex)
    assert not (tmp_path / "outside.txt").exists()


@pytest.mark.latex
@needs_latex
def test_infinite_loop_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    tex = write_tex(tmp_path, "loop.tex", "\\def\\x{\\x}\\x")
    start = time.monotonic()
    with pytest.raises(RenderError) as exc:
        compile_pdf(tex, timeout=3)
    elapsed = time.monotonic() - start
    assert "exceeded 3 seconds" in str(exc.value)
    assert elapsed < 15


@pytest.mark.latex
@needs_latex
def test_timeout_leaves_no_pdflatex_running(tmp_path: Path) -> None:
    tex = write_tex(tmp_path, "loop2.tex", "\\def\\y{\\y}\\y")
    with pytest.raises(RenderError):
        compile_pdf(tex, timeout=2)
    assert processes_working_in(tmp_path) == []


def test_require_tex_names_latexmk_when_path_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RenderError) as exc:
        require_tex()
    assert "latexmk" in str(exc.value)


def test_require_tex_says_how_to_go_on_without_tex(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RenderError) as exc:
        require_tex()
    assert "--no-pdf" in str(exc.value)


def test_compile_pdf_without_tex_raises_render_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tex = write_tex(tmp_path, "exam-1.tex", "Hi")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RenderError) as exc:
        compile_pdf(tex)
    assert "apt-get install" in str(exc.value)


def test_compile_many_of_nothing_is_nothing() -> None:
    assert compile_many([]) == []


@pytest.mark.latex
@needs_latex
def test_compile_many_returns_pdfs_in_input_order(tmp_path: Path) -> None:
    texs = [write_tex(tmp_path, f"v{i}.tex", good_body(f"Version{i}")) for i in (3, 1, 2)]
    done: list[Path] = []
    pdfs = compile_many(texs, jobs=2, on_done=done.append)
    assert pdfs == [t.with_suffix(".pdf") for t in texs]
    assert sorted(done) == sorted(pdfs)


def two_of_four_broken(folder: Path) -> list[Path]:
    """Four documents: the 2nd and 4th use undefined macros on their line 9."""
    return [
        write_tex(folder, "ok-a.tex", good_body("A")),
        write_tex(folder, "bad-b.tex", "\\nosuchmacro"),
        write_tex(folder, "ok-c.tex", good_body("C")),
        write_tex(folder, "bad-d.tex", "\\alsonotamacro"),
    ]


@pytest.mark.latex
@needs_latex
def test_compile_many_reports_every_failed_file(tmp_path: Path) -> None:
    with pytest.raises(RenderError) as exc:
        compile_many(two_of_four_broken(tmp_path), jobs=2)
    missing = [
        part for part in ("2 of 4", "bad-b.tex:9:", "bad-d.tex:9:") if part not in str(exc.value)
    ]
    assert missing == []


@pytest.mark.latex
@needs_latex
def test_compile_many_still_compiles_the_good_files_when_some_fail(tmp_path: Path) -> None:
    done: list[Path] = []
    with pytest.raises(RenderError):
        compile_many(two_of_four_broken(tmp_path), jobs=2, on_done=done.append)
    assert sorted(p.name for p in done) == ["ok-a.pdf", "ok-c.pdf"]


class Interrupted(Exception):
    """Stands in for a KeyboardInterrupt raised while compile_many waits."""


def interrupt(_: Path) -> None:
    """An on_done callback that interrupts compile_many."""
    raise Interrupted


@pytest.mark.latex
@needs_latex
def test_interrupting_compile_many_stops_the_runs_still_going(tmp_path: Path) -> None:
    texs = [
        write_tex(tmp_path, "quick.tex", "Hi"),
        write_tex(tmp_path, "forever.tex", "\\def\\x{\\x}\\x"),
    ]
    with pytest.raises(Interrupted):
        compile_many(texs, jobs=2, timeout=60, on_done=interrupt)
    assert processes_working_in(tmp_path) == []


@pytest.mark.latex
@needs_latex
@pytest.mark.parametrize("target", ["/etc/passwd", "../secret.txt", ".hidden.txt"])
def test_tex_cannot_read_outside_its_folder(tmp_path: Path, target: str) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "secret.txt").write_text("TOPSECRET", encoding="utf-8")
    (inner / ".hidden.txt").write_text("TOPSECRET", encoding="utf-8")
    tex = write_tex(inner, "peek.tex", f"Start \\input{{{target}}} end")
    with pytest.raises(RenderError):
        compile_pdf(tex)
    assert not (inner / "peek.pdf").exists()


@pytest.mark.latex
@needs_latex
def test_tex_still_reads_its_own_folder(tmp_path: Path) -> None:
    (tmp_path / "part.tex").write_text("from a sibling file", encoding="utf-8")
    tex = write_tex(tmp_path, "whole.tex", "Start \\input{part} end")
    pdf = compile_pdf(tex)
    assert "sibling" in subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
