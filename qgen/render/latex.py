"""The jinja2 environment for LaTeX templates: safe delimiters, StrictUndefined, LaTeX filters.

Templates use `\\VAR{...}` for values, `\\BLOCK{...}` for statements and `\\#{...}` for
comments, so ordinary LaTeX braces pass through untouched. Filters: `escape` (plain text to
LaTeX), `bmatrix` (rows of cells to a bmatrix), `points` (3 -> "3", 2.5 -> "2.5") and
`exam_points` (2.5 -> "2\\half", what `\\part[...]` needs: exam adds whole and half points only)
and `space` (a part -> the height of its answer box in cm, qgen.render.space).
The macros of `parts.tex.j2` (`render_parts`, `subheading`) are globals in every template.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import jinja2
from pylatex.utils import escape_latex

from qgen.errors import RenderError
from qgen.render.space import room_cm
from qgen.resources import templates_dir

__all__ = [
    "bmatrix", "environment", "escape_text", "exam_points", "points", "render", "render_string"
]

PARTS_TEMPLATE = "parts.tex.j2"

# pylatex's escape_latex covers all ten specials (# $ % & ~ _ ^ \ { }) and leaves non-ASCII
# alone, which pdflatex with T1+utf8 typesets for Latin letters (ø, é, ß). It falls short in
# three ways that we fix here, character by character, before handing over to pylatex:
#  * "\n" becomes "\newline%" -- a leading or doubled newline is then a LaTeX error ("There's
#    no line here to end"); we keep newlines, so a blank line is a paragraph break as in LaTeX.
#  * "-" becomes "{-}" -- noise in a .tex meant to be edited; we keep "-" ("--" is an en dash).
#  * characters utf8 inputenc does not know (unicode minus, Greek, ≈ ≤ ≥ ′ ...) pass through
#    and stop pdflatex ("Unicode character − not set up"); we map the common ones.
_TEXT_CHARS: dict[str, str] = {
    "\n": "\n",
    "-": "-",
    "\u2212": r"\textminus{}",
    "\u2032": r"\ensuremath{'}",
    "\u2248": r"\ensuremath{\approx}",
    "\u2264": r"\ensuremath{\leq}",
    "\u2265": r"\ensuremath{\geq}",
    "\u2260": r"\ensuremath{\neq}",
    "\u2202": r"\ensuremath{\partial}",
    "\u2211": r"\ensuremath{\sum}",
    "\u221e": r"\ensuremath{\infty}",
    "\u2208": r"\ensuremath{\in}",
    "\u2207": r"\ensuremath{\nabla}",
    "\u2713": r"\ensuremath{\checkmark}",
}
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "varsigma", "τ": "tau",
    "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma",
    "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma",
    "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}
_TEXT_CHARS.update({char: rf"\ensuremath{{\{name}}}" for char, name in _GREEK.items()})


def escape_text(s: Any) -> str:
    r"""Plain text (from a bank or roster) -> LaTeX-safe text: `"50% & _"` -> `50\% \& \_`."""
    return "".join(_TEXT_CHARS[c] if c in _TEXT_CHARS else str(escape_latex(c)) for c in str(s))


def bmatrix(cells: Sequence[Any]) -> str:
    r"""Rows of LaTeX cells, or a flat list (a column vector) -> `\begin{bmatrix}...`."""
    rows = [list(row) if isinstance(row, (list, tuple)) else [row] for row in cells]
    body = r" \\ ".join(" & ".join(str(cell) for cell in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def points(value: Any) -> str:
    """A point value as exam prints it: 3 -> "3", 2.5 -> "2.5", 3.0 -> "3"."""
    if isinstance(value, (int, Fraction)) and Fraction(value).denominator == 1:
        return str(int(value))
    text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def exam_points(value: Any) -> str:
    r"""Points in the form the exam class can add up: 3 -> "3", 2.5 -> "2\half", 0.5 -> "\half"."""
    halves = 2 * Fraction(str(value) if isinstance(value, float) else value)
    if halves.denominator != 1 or halves < 0:
        raise RenderError(
            f"points value {value!r}: the exam class adds up whole and half points only"
        )
    whole, half = divmod(int(halves), 2)
    if not half:
        return str(whole)
    return rf"{whole}\half" if whole else r"\half"


@jinja2.pass_environment
def _space(env: jinja2.Environment, part: Any) -> float:
    """The `space` filter: a part's answer box in cm (a missing field is a template error)."""
    fixed = env.getattr(part, "space_cm")
    return room_cm(float(env.getattr(part, "box_cm")), list(env.getattr(part, "worked")),
                   None if isinstance(fixed, jinja2.Undefined) else fixed)


def _parts_macro(name: str):
    """A global that forwards to a macro of parts.tex.j2, loaded on first use."""

    def call(*args: Any, **kwargs: Any) -> str:
        module = environment().get_template(PARTS_TEMPLATE).module
        return getattr(module, name)(*args, **kwargs)

    call.__name__ = name
    return call


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    r"""The one jinja2 environment over templates_dir(), with \VAR / \BLOCK / \# delimiters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        keep_trailing_newline=True,
    )
    # `e` is jinja's HTML-escape alias: point it at LaTeX escaping too, so it cannot slip in.
    env.filters.update(
        escape=escape_text, e=escape_text, bmatrix=bmatrix, points=points, exam_points=exam_points,
        space=_space,
    )
    env.globals.update(
        render_parts=_parts_macro("render_parts"), subheading=_parts_macro("subheading")
    )
    return env


def add_template_folder(folder: Path) -> None:
    """Let templates be found in `folder` too, after qgen's own (a course family's statement templates)."""
    loader = environment().loader
    assert isinstance(loader, jinja2.FileSystemLoader)
    if str(folder) not in loader.searchpath:
        loader.searchpath.append(str(folder))


def _template_frame(exc: BaseException, name: str) -> str:
    """Where in the templates a jinja2 runtime error was raised ("file, line N"), innermost."""
    where = name
    root = str(templates_dir())
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".j2") or frame.filename == "<template>":
            file = frame.filename.removeprefix(root).lstrip("/\\") or name
            where = f"{file}, line {frame.lineno}"
    return where


def _render_error(exc: Exception, name: str) -> RenderError:
    """A RenderError naming the template, the line and what is wrong."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.name or exc.filename or name
        return RenderError(f"{where}, line {exc.lineno}: template syntax error: {exc.message}")
    if isinstance(exc, jinja2.TemplateNotFound):
        return RenderError(f"{name}: template {exc.name!r} not found in {templates_dir()}")
    where = _template_frame(exc, name)
    if isinstance(exc, jinja2.UndefinedError):
        return RenderError(f"{where}: missing template variable: {exc.message}")
    return RenderError(f"{where}: {type(exc).__name__}: {exc}")


def render(template_name: str, **context: Any) -> str:
    """Render a template from templates_dir(); any jinja2 error becomes a RenderError."""
    try:
        return environment().get_template(template_name).render(**context)
    except jinja2.TemplateError as exc:
        raise _render_error(exc, template_name) from exc


def render_string(source: str, **context: Any) -> str:
    r"""Render template source text: `render_string(r"\VAR{x}", x=1)` -> "1"."""
    try:
        return environment().from_string(source).render(**context)
    except jinja2.TemplateError as exc:
        raise _render_error(exc, "<template>") from exc
