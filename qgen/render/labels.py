"""Page labels ("Page k of N") put on compiled papers, so that no paper is compiled twice to learn
its page count: qgen's own LaTeX runs leave the label out, and a small document of label pages,
compiled with the kind's preamble (so each label sits where the paper's footer has it), is drawn
over each paper's pages by qgen.render.stamp."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from qgen.render.batch import Compiler, compile_document

if TYPE_CHECKING:
    from qgen.render import stamp


class Labels:
    """The page labels ("Page k of N") of a set's papers: per kind, small documents of label
    pages for N = 1 … (compiled on first need, with the kind's preamble, so the label sits where
    the paper's footer has it), drawn over each paper's pages by qgen.render.stamp."""

    SPARE = 4  # page counts beyond the largest seen that a label document covers too

    def __init__(self, compiler: Compiler) -> None:
        self.compiler = compiler
        self.lock = threading.Lock()
        self.docs: dict[str, dict[int, tuple[Path, int]]] = {}  # kind -> N -> (label PDF, its first page)
        self.made = 0

    def warm(self, kind: str, upto: int = 16) -> None:
        """Compile the labels of papers of up to `upto` pages now (a core is idle while the first
        versions are solved), so that no finished run waits for them."""
        with self.lock:
            if not self.docs.get(kind):
                self.docs.setdefault(kind, {})
                self._make(kind, 1, upto)

    def pieces(self, kind: str, pages: int) -> tuple[stamp.Piece, ...]:
        """The label pieces of a `pages`-page paper of `kind` (compiling its labels if need be)."""
        from qgen.render import stamp

        with self.lock:
            covered = self.docs.setdefault(kind, {})
            if pages not in covered:
                self._make(kind, max(covered, default=0) + 1, pages + self.SPARE)
            path, first = covered[pages]
        return tuple(stamp.Piece(page=j, rect=PAGE, stamp=first + j, source=str(path)) for j in range(pages))

    def _make(self, kind: str, low: int, high: int) -> None:
        c = self.compiler
        self.made += 1
        head = c.preambles[kind]
        body = "\n".join(rf"\qgenlabels{{{n}}}" for n in range(low, high + 1))
        text = f"{head.rstrip()}\n\\begin{{document}}\n{body}\n\\end{{document}}\n"
        path = compile_document(c.workdir / f"labels-{kind}-{self.made}", text, head, c.format_for(kind), c.timeout,
                                c.running, c.engine)
        at = 0
        for n in range(low, high + 1):
            self.docs[kind][n] = (path, at)
            at += n


PAGE = (0.0, 0.0, 3000.0, 3000.0)  # a clip rectangle holding any page
