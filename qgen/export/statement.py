r"""A question's statement, as the exam prints it, cut into blocks for an LMS (pure).

The exam's LaTeX body of a question (the family template, rendered without answers) is the
statement, then a `parts` environment. Inside it the template writes, in order: run-in section
headings (`\uplevel{\textbf{…}}`), interludes that give more data (`\uplevel{…}`: "Now take
one sample with …") and the parts, each introduced by the `% part <id> (<kind>)` line of
`parts.tex.j2`. An LMS question shows the same sequence, with its own inputs in place of the
parts, so the body is cut at exactly those marks; everything else a part brings (its answer
box, an empty table to fill in) is dropped.

>>> body = "Intro $x$.\n\\begin{parts}\n\\uplevel{\\textbf{Forward}}\n% part z (number)\n\\part[1] Q?\n\\end{parts}\n"
>>> [(b.kind, b.html or b.part) for b in cut(body)[0]]
[('text', '<p>Intro \\(x\\).</p>'), ('heading', 'Forward'), ('part', 'z')]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qgen.errors import QgenError
from qgen.export.markup import FIGURE_NOTE, tex_to_html

_MARK = re.compile(r"^% part (\S+) \((\w+)\)[ \t]*$|\\uplevel\{", re.MULTILINE)
_HEADING = re.compile(r"^\s*\\textbf\{(.*)\}\s*$", re.DOTALL)


@dataclass(frozen=True)
class Block:
    """A piece of a question: statement text, a section heading, or the place of a part."""

    kind: str  # text | heading | part
    html: str
    tex: str
    part: str = ""
    before_parts: bool = False
    pictures: tuple[tuple[str, str], ...] = ()  # (key, TikZ) of each FIGURE_MARK in html


def _group(text: str, start: int) -> tuple[str, int]:
    """The balanced {…} group whose `{` is at `start`: its content and the index after it."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i], i + 1
        i += 1
    return text[start + 1:], len(text)


def cut(body: str, figure_note: str | None = FIGURE_NOTE) -> tuple[list[Block], int, set[str]]:
    """A question body -> blocks in order, how many figures it has, LaTeX not understood.

    A figure becomes a FIGURE_MARK (its TikZ in `Block.pictures`), replaced later by the drawn figure or by
    `figure_note` (None: dropped, for a figure the text does not need): see `qgen.export.model.place_figures`.
    """
    figures, unknown = 0, set()

    def text(tex: str, *, before: bool = False) -> list[Block]:
        nonlocal figures
        converted = tex_to_html(tex, figure_note=figure_note, pictures=True)
        figures += converted.figures
        unknown.update(converted.unknown)
        return [Block("text", converted.html, tex, before_parts=before, pictures=converted.pictures)
                ] if converted.html.strip() else []

    start, end = body.find(r"\begin{parts}"), body.rfind(r"\end{parts}")
    if start < 0 or end < start:
        return text(body, before=True), figures, unknown
    blocks = text(body[:start], before=True)
    inner = body[start + len(r"\begin{parts}"):end]
    for m in _MARK.finditer(inner):
        if m.group(1):
            blocks.append(Block("part", "", "", m.group(1)))
            continue
        content, _ = _group(inner, m.end() - 1)
        heading = _HEADING.match(content)
        if heading:
            converted = tex_to_html(heading.group(1), inline=True)
            unknown.update(converted.unknown)
            blocks.append(Block("heading", converted.html, heading.group(1)))
        else:
            blocks += text(content)
    blocks += text(body[end + len(r"\end{parts}"):])
    return blocks, figures, unknown


def statement_blocks(question, part_ids: Sequence[str], figure_note: str | None = FIGURE_NOTE
                     ) -> tuple[tuple[Block, ...], int, set[str]]:
    """The blocks of a built question (its parts already the manifest's), every part placed once.

    A part the body does not mark (a template that writes its parts its own way) goes at the end.
    An empty tuple means the body could not be rendered.
    """
    from qgen.render.exam import question_body

    try:
        body = question_body(question, key=False)
    except QgenError:
        return (), 0, set()
    blocks, figures, unknown = cut(body, figure_note)
    placed: set[str] = set()
    kept: list[Block] = []
    for b in blocks:
        if b.kind == "part":
            if b.part in placed or b.part not in part_ids:
                continue
            placed.add(b.part)
        kept.append(b)
    kept += [Block("part", "", "", pid) for pid in part_ids if pid not in placed]
    return tuple(kept), figures, unknown
