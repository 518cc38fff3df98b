"""Which TeX engine a set's documents need, and a clear stop when it is missing.

pdflatex (faster) prints T1/TS1 text with Latin Modern; any other character of a bank's text or a
roster's names needs LuaLaTeX with Noto fonts (qgen.render.scripts). The versions' papers and the
students' stamp document choose separately: a roster of names beyond pdflatex puts only the
stamp document on LuaLaTeX.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qgen.bank import Bank
from qgen.errors import QgenError
from qgen.render import pdf, scripts
from qgen.render.exam import preamble
from qgen.roster import Student

if TYPE_CHECKING:
    from qgen.render.papers import Paper

FIELDS = ("name", "id", "section", "room")


def unprintable_names(roster: Sequence[Student]) -> list[str]:
    """A warning per roster row with a character no font has (it is printed as a boxed "?")."""
    out = []
    for s in roster:
        for f in FIELDS:
            value = getattr(s, f)
            bad = scripts.unprintable(value)
            if bad:
                chars = ", ".join(scripts.describe(c) for c in bad)
                out.append(f"{s.source}:{s.line}: {f} {value!r}: no font qgen uses has {chars}; printed as [?]")
    return out


def beyond_pdflatex(texts: Sequence[str]) -> set[str]:
    """The characters of `texts` only LuaLaTeX prints (not bidi marks and the like)."""
    chars = {c for text in texts for c in text if not scripts.pdflatex_prints(c)}
    return {c for c in chars if scripts.script_of(c) is not None}


def engine_for(bank: Bank, exam: dict[str, Any], papers: Sequence[Paper], *, check: bool,
               roster: Sequence[Student] = ()) -> tuple[str, set[str]]:
    """The TeX engine for the versions' papers and the Noto script groups it needs; with `check`,
    a missing lualatex or font is one QgenError (see `check_lualatex`)."""
    beyond = beyond_pdflatex([preamble(exam, key=False), *(p.job.body for p in papers)])
    if not beyond:
        return scripts.PDFLATEX, set()
    if check:
        check_lualatex(bank, roster, beyond, papers)
    return scripts.LUALATEX, {scripts.script_of(c).name for c in beyond}  # type: ignore[union-attr]


def roster_groups(roster: Sequence[Student]) -> set[str]:
    """The Noto script groups the roster's names, ids and places need (empty: pdflatex prints them)."""
    beyond = beyond_pdflatex([getattr(s, f) for s in roster for f in FIELDS])
    return {scripts.script_of(c).name for c in beyond}  # type: ignore[union-attr]


def check_lualatex(bank: Bank, roster: Sequence[Student], beyond: set[str], papers: Sequence[Paper] = ()) -> None:
    """Raise one QgenError naming the first roster row (file:line) or bank text with a character
    of `beyond` when LuaLaTeX or a font it needs is missing, with the `apt-get install` line."""
    groups = {scripts.script_of(c).name for c in beyond}  # type: ignore[union-attr]
    tex_missing = pdf.lualatex_missing()
    fonts_missing = scripts.missing_fonts(groups)
    if not tex_missing and not fonts_missing:
        return
    wanted = beyond if tex_missing else {c for c in beyond if scripts.script_of(c) in fonts_missing}
    packages = ([scripts.LUALATEX_PACKAGE] if tex_missing else []) \
        + list(dict.fromkeys(s.package for s in fonts_missing))
    texts = [(f"{s.source}:{s.line}", f, getattr(s, f)) for s in roster for f in FIELDS]
    texts += [(str(bank.path), f, getattr(bank, f)) for f in ("title", "course", "date", "instructions")]
    texts += [(f"{bank.path} ({p.job.name})", "text", p.job.body) for p in papers]
    where, what, text, char = next(((w, f, t, c) for w, f, t in texts for c in t if c in wanted),
                                   (str(bank.path), "text", "", min(wanted)))
    shown = f" {text!r}" if len(text) <= 80 else ""
    lacking = "lualatex (texlive-luatex)" if tex_missing else \
        "the font " + " and ".join(f"{s.font} ({s.file})" for s in fonts_missing)
    raise QgenError(f"{where}: {what}{shown} has {scripts.describe(char)}, which pdflatex cannot print, and "
                    f"LuaLaTeX needs {lacking}, which is not installed: run `apt-get install "
                    f"{' '.join(packages)}` (or bash scripts/bootstrap.sh), or pass --no-pdf")
