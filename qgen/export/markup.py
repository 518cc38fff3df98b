r"""The LaTeX of a statement or prompt -> HTML: qgen's one LaTeX-to-HTML converter (pure).

Used by `qgen export` (math kept as LaTeX for the LMS's MathJax) and by the feedback pages of
`qgen grade` (math as MathML, `math="mathml"`, which every current browser draws offline, with
no script and no CDN; the MathML comes from `latex2mathml`, a maintained pure-Python converter).

Only the LaTeX the family templates and prompts use is understood: text commands (\emph,
\textbf, \texttt, \uplevel, …), spacing and page-layout commands (dropped), `center`,
`tabular`, lists, display and inline math. Math is kept as it is, between `\( … \)` or
`$$ … $$` (display), which Moodle's MathJax filter and Canvas both render; text is
HTML-escaped. A TikZ picture becomes a note pointing to the printed exam, or (`pictures=True`)
a marker `<!--qgen-figure:KEY-->` that the exporter replaces by the drawn figure (its LaTeX is
in `Html.pictures`). Commands not understood are dropped (their arguments kept as text) and reported in
`Html.unknown`.

>>> tex_to_html(r"The loss is $\ell < 1$ \& \emph{small}.").html
'<p>The loss is \\(\\ell &lt; 1\\) &amp; <em>small</em>.</p>'
>>> plain_text(r"Q\&A: \ensuremath{\sigma} 50\%")
'Q&A: σ 50%'
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from dataclasses import dataclass

from qgen.export.mathout import math_markup
from qgen.render.latex import escape_text

FIGURE_NOTE = "(Figure: see the printed exam.)"
FIGURE_MARK = "<!--qgen-figure:{}-->"  # where a picture goes, by key (pictures=True)
FIGURE_MARK_RE = re.compile(r"<!--qgen-figure:([0-9a-f]+)-->")
MATH_MODES = ("mathjax", "mathml")

_PARA = "\x00P"  # a paragraph break in the converted stream
_BLOCK = "\x00B"  # marks a block element (table, div) that must not sit inside <p>

_WRAP = {
    "emph": ("<em>", "</em>"), "textit": ("<em>", "</em>"), "textsl": ("<em>", "</em>"),
    "textbf": ("<strong>", "</strong>"), "texttt": ("<code>", "</code>"), "underline": ("<u>", "</u>"),
    "textsc": ("", ""), "textrm": ("", ""), "textsf": ("", ""), "textnormal": ("", ""), "textup": ("", ""),
    "mbox": ("", ""), "text": ("", ""), "uplevel": ("", ""), "qgenfigure": ("", ""), "makebox": ("", ""),
}
_SYMBOLS = {
    "textminus": "\u2212", "textbackslash": "\\", "textasciitilde": "~", "textasciicircum": "^",
    "dots": "\u2026", "ldots": "\u2026", "textendash": "\u2013", "textemdash": "\u2014", "S": "\u00a7",
    "quad": "\u2003", "qquad": "\u2003\u2003", "enspace": "\u2002", "thinspace": "\u2009", "newline": "<br>",
    "LaTeX": "LaTeX", "TeX": "TeX", "slash": "/", "textbar": "|", "textless": "&lt;", "textgreater": "&gt;",
}
_DROP_ARGS = {  # layout commands and how many {…} arguments they take (an [opt] is skipped too)
    "needspace": 1, "vspace": 1, "hspace": 1, "addvspace": 1, "renewcommand": 2, "newcommand": 2,
    "setlength": 2, "rule": 2, "label": 1, "color": 1, "definecolor": 3, "cline": 1, "vphantom": 1,
    "phantom": 1, "resizebox": 2, "scalebox": 1,
}
_DROP = {
    "medskip", "smallskip", "bigskip", "noindent", "centering", "raggedright", "raggedleft", "hfill",
    "vfill", "hline", "small", "footnotesize", "scriptsize", "tiny", "large", "Large", "LARGE", "huge",
    "normalsize", "itshape", "bfseries", "upshape", "rmfamily", "ttfamily", "displaystyle", "strut",
    "protect", "relax", "nobreak", "allowbreak", "clearpage", "newpage", "pagebreak", "linebreak",
}
_CONTROL = {"&": "&amp;", "%": "%", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}", ",": "\u2009",
            " ": " ", ";": " ", ":": " ", "!": "", "-": "", "/": "", "@": "", "^": "^", "~": "~"}
_MATH_ENVS = {"equation", "equation*", "displaymath", "gather", "gather*", "multline", "multline*"}
_ALIGN_ENVS = {"align", "align*", "eqnarray", "eqnarray*", "flalign", "flalign*", "alignat", "alignat*"}
_PICTURES = {"tikzpicture", "picture", "pgfpicture", "circuitikz"}


@dataclass(frozen=True)
class Html:
    """Converted HTML, how many figures it replaced by a note, and the LaTeX it did not understand."""

    html: str
    figures: int = 0
    unknown: tuple[str, ...] = ()
    pictures: tuple[tuple[str, str], ...] = ()  # (key, LaTeX of the tikzpicture) per marker, pictures=True


def tex_to_html(tex: str, *, inline: bool = False, figure_note: str | None = FIGURE_NOTE,
                math: str = "mathjax", pictures: bool = False) -> Html:
    r"""LaTeX text -> HTML paragraphs (`inline`: one run of inline HTML, no <p>).

    A picture becomes `figure_note` (None: it is dropped, for a figure the text does not need),
    or with `pictures` a FIGURE_MARK to be replaced by the drawn figure. `math`: "mathjax"
    (LaTeX between \( \) or $$ $$) or "mathml" (<math> elements, for a page read offline).

    >>> tex_to_html(r"$x$\par $y$").html
    '<p>\\(x\\)</p>\n<p>\\(y\\)</p>'
    >>> tex_to_html(r"$\frac{1}{x_{2}}$", inline=True, math="mathml").html.startswith('<math')
    True
    """
    if math not in MATH_MODES:
        raise ValueError(f"math must be one of {MATH_MODES}, not {math!r}")
    conv = _Converter(_strip_comments(tex), figure_note, math, pictures)
    stream = conv.run()
    body = _paragraphs(stream, inline)
    return Html(body, conv.figures, tuple(sorted(conv.unknown)), tuple(conv.pictures))


@functools.lru_cache(maxsize=8192)  # every student of a version has the same prompts
def html_of(tex: str, *, inline: bool = True, math: str = "mathml") -> str:
    r"""`tex_to_html(...).html`, remembered: for pages that show the same LaTeX many times.

    >>> html_of(r"Is $\hat{y} < 1$?").count("<mi>")
    1
    """
    return tex_to_html(tex, inline=inline, math=math).html


def math_html(tex: str, *, display: bool = False, math: str = "mathml") -> str:
    r"""One formula (math-mode LaTeX, no $) as HTML: MathML, or LaTeX for MathJax.

    >>> math_html(r"g'(z) = g(z)\left(1 - g(z)\right)").startswith('<math')
    True
    """
    return math_markup(tex, display=display, mode=math)


def plain_text(tex: str) -> str:
    r"""Bank text that `escape_text` made LaTeX (a title, a name) -> plain text again, as typed.

    >>> plain_text(r"Q\&A {[}1{]} \textasciitilde{}x \ensuremath{\leq} 2")
    'Q&A [1] ~x ≤ 2'
    """
    rest = _UNESCAPE_RE.sub("", tex)
    text = _UNESCAPE_RE.sub(lambda m: _UNESCAPE[m.group()], tex)
    if "\\" in rest or "$" in rest:  # LaTeX beyond escaped characters (a family's title): convert it
        converted = tex_to_html(tex, inline=True).html
        text = html.unescape(re.sub(r"<[^>]+>", "", converted))
    return re.sub(r"\s+", " ", text).strip()


def _unescape_table() -> dict[str, str]:
    chars = [chr(c) for c in range(32, 127)] + [chr(c) for c in range(0x391, 0x3CA)]
    chars += list("\xa0\u2212\u2032\u2248\u2264\u2265\u2260\u2202\u2211\u221e\u2208\u2207\u2713")
    table = {}
    for c in chars:
        esc = escape_text(c)
        if esc != c:
            table[esc] = c
    return table


_UNESCAPE = _unescape_table()
_UNESCAPE_RE = re.compile("|".join(re.escape(k) for k in sorted(_UNESCAPE, key=len, reverse=True)))


def _strip_comments(tex: str) -> str:
    """LaTeX comments removed: `%` (not `\\%`) to the end of the line, and the newline with it."""
    out: list[str] = []
    i, n = 0, len(tex)
    while i < n:
        c = tex[i]
        if c == "\\" and i + 1 < n:
            out.append(tex[i:i + 2])
            i += 2
        elif c == "%":
            end = tex.find("\n", i)
            if end < 0:
                break
            i = end + 1
            while i < n and tex[i] in " \t":
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _paragraphs(stream: list[str], inline: bool) -> str:
    """The converted stream -> <p> paragraphs; block elements stand on their own."""
    paras: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = re.sub(r"[ \t\n]+", " ", "".join(current)).strip()
        text = re.sub(r"(<br>\s*)+$", "", text).strip()
        if text:
            paras.append(text if inline else f"<p>{text}</p>")
        current.clear()

    for piece in stream:
        if piece == _PARA:
            flush()
        elif piece.startswith(_BLOCK):
            flush()
            paras.append(piece[len(_BLOCK):])
        else:
            current.append(piece)
    flush()
    return (" " if inline else "\n").join(paras)


def split_top(text: str, sep: str) -> list[str]:
    r"""Split LaTeX at `sep` ("&" or "\\\\") outside braces and math.

    >>> split_top(r"a & {b & c} & $d & e$", "&")
    ['a ', ' {b & c} ', ' $d & e$']
    """
    parts: list[str] = []
    depth, math, start, i = 0, False, 0, 0
    while i < len(text):
        c = text[i]
        if text.startswith(sep, i) and depth == 0 and not math:
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "$":
            math = not math
        i += 1
    parts.append(text[start:])
    return parts


class _Converter:
    """A single pass over LaTeX text, producing a stream of HTML pieces."""

    def __init__(self, tex: str, figure_note: str | None = FIGURE_NOTE, math: str = "mathjax",
                 pictures: bool = False):
        self.s = tex
        self.figure_note = figure_note
        self.math = math
        self.with_pictures = pictures
        self.pictures: list[tuple[str, str]] = []
        self.i = 0
        self.figures = 0
        self.unknown: set[str] = set()

    # -- reading ---------------------------------------------------------------------------
    def _group(self) -> str:
        """The text of a {…} group at the cursor (after spaces), braces balanced; a lone token otherwise."""
        s = self.s
        while self.i < len(s) and s[self.i] in " \t\n":
            self.i += 1
        if self.i >= len(s):
            return ""
        if s[self.i] != "{":
            if s[self.i] == "\\":
                m = re.match(r"\\([A-Za-z]+|.)", s[self.i:])
                token = m.group(0) if m else "\\"
            else:
                token = s[self.i]
            self.i += len(token)
            return token
        depth, start = 0, self.i
        while self.i < len(s):
            c = s[self.i]
            if c == "\\":
                self.i += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    self.i += 1
                    return s[start + 1:self.i - 1]
            self.i += 1
        return s[start + 1:]

    def _optional(self) -> str | None:
        """An [optional] argument at the cursor, if there is one."""
        s, j = self.s, self.i
        while j < len(s) and s[j] in " \t":
            j += 1
        if j < len(s) and s[j] == "[":
            end = s.find("]", j)
            if end > 0:
                self.i = end + 1
                return s[j + 1:end]
        return None

    def _until(self, closing: str) -> str:
        """Raw text up to `closing` (not escaped by a backslash), cursor after it."""
        s, j = self.s, self.i
        while j < len(s):
            if s[j] == "\\" and not s.startswith(closing, j):
                j += 2
                continue
            if s.startswith(closing, j):
                text = s[self.i:j]
                self.i = j + len(closing)
                return text
            j += 1
        text = s[self.i:]
        self.i = len(s)
        return text

    def _environment(self, name: str) -> str:
        """The body of environment `name` (nesting counted), cursor after its \\end."""
        s, depth, j = self.s, 1, self.i
        begin, end = f"\\begin{{{name}}}", f"\\end{{{name}}}"
        while j < len(s):
            if s.startswith(begin, j):
                depth += 1
                j += len(begin)
            elif s.startswith(end, j):
                depth -= 1
                if depth == 0:
                    body = s[self.i:j]
                    self.i = j + len(end)
                    return body
                j += len(end)
            else:
                j += 1
        body = s[self.i:]
        self.i = len(s)
        return body

    # -- converting ------------------------------------------------------------------------
    def _sub(self, tex: str) -> list[str]:
        inner = _Converter(tex, self.figure_note, self.math, self.with_pictures)
        out = inner.run()
        self.figures += inner.figures
        self.unknown |= inner.unknown
        self.pictures += inner.pictures
        return out

    def _m(self, tex: str, display: bool) -> str:
        return math_markup(tex, display=display, mode=self.math)

    def _inline(self, tex: str) -> str:
        return _paragraphs(self._sub(tex), inline=True)

    def run(self) -> list[str]:
        s, out = self.s, []
        while self.i < len(s):
            c = s[self.i]
            if c == "\\":
                out.extend(self._command())
            elif c == "$":
                if s.startswith("$$", self.i):
                    self.i += 2
                    out.append(self._m(self._until("$$"), True))
                else:
                    self.i += 1
                    out.append(self._m(self._until("$"), False))
            elif c == "{":
                out.extend(self._sub(self._group()))
            elif c == "}":
                self.i += 1
            elif c == "~":
                out.append("&nbsp;")
                self.i += 1
            elif c == "\n":
                m = re.match(r"\n[ \t]*\n\s*", s[self.i:])
                if m:
                    out.append(_PARA)
                    self.i += len(m.group(0))
                else:
                    out.append(" ")
                    self.i += 1
            elif s.startswith("---", self.i):
                out.append("\u2014")
                self.i += 3
            elif s.startswith("--", self.i):
                out.append("\u2013")
                self.i += 2
            elif s.startswith("``", self.i):
                out.append("\u201c")
                self.i += 2
            elif s.startswith("''", self.i):
                out.append("\u201d")
                self.i += 2
            else:
                m = re.match(r"[^\\$\{\}~\n\-`']+|.", s[self.i:], re.DOTALL)
                out.append(html.escape(m.group(0), quote=False))
                self.i += len(m.group(0))
        return out

    def _command(self) -> list[str]:
        s = self.s
        if s.startswith("\\\\", self.i):
            self.i += 2
            self._optional()
            return ["<br>"]
        if s.startswith("\\[", self.i):
            self.i += 2
            return [self._m(self._until("\\]"), True)]
        if s.startswith("\\(", self.i):
            self.i += 2
            return [self._m(self._until("\\)"), False)]
        m = re.match(r"\\([A-Za-z]+)\*?|\\(.)", s[self.i:], re.DOTALL)
        if m is None:  # a trailing backslash
            self.i += 1
            return []
        self.i += len(m.group(0))
        if m.group(2) is not None:
            sym = m.group(2)
            return [_CONTROL.get(sym, "")] if sym in _CONTROL else [html.escape(sym, quote=False)]
        name = m.group(1)
        if name == "begin":
            return self._begin(self._group())
        if name == "end":  # a stray \end: skip it
            self._group()
            return []
        if name == "par":
            return [_PARA]
        if name in _WRAP:
            if name == "makebox":
                self._optional()
                self._optional()
            left, right = _WRAP[name]
            stream = self._sub(self._group())
            if any(p == _PARA or p.startswith(_BLOCK) for p in stream):  # a figure or table inside
                return [_PARA, *stream, _PARA]
            return [left + _paragraphs(stream, inline=True) + right]
        if name == "ensuremath":
            return [self._m(self._group(), False)]
        if name in _SYMBOLS:
            if s.startswith("{}", self.i):
                self.i += 2
            return [_SYMBOLS[name]]
        if name in _DROP_ARGS:
            self._optional()
            for _ in range(_DROP_ARGS[name]):
                self._group()
                self._optional()
            return [" "] if name == "hspace" else []
        if name in _DROP:
            if s.startswith("{}", self.i):
                self.i += 2
            return [" "] if name.endswith("skip") or name == "hfill" else []
        self.unknown.add("\\" + name)
        return []

    def _begin(self, env: str) -> list[str]:
        body = self._environment(env)
        if env in _PICTURES:
            self.figures += 1
            if self.with_pictures:
                source = f"\\begin{{{env}}}{body}\\end{{{env}}}"
                key = hashlib.sha1(source.encode()).hexdigest()[:16]
                self.pictures.append((key, source))
                return [_BLOCK + FIGURE_MARK.format(key)]
            if self.figure_note is None:
                return []
            return [_BLOCK + f'<p class="qgen-figure"><em>{html.escape(self.figure_note)}</em></p>']
        if env in _MATH_ENVS:
            return [self._m(body, True)]
        if env in _ALIGN_ENVS:
            return [self._m(r"\begin{aligned}" + body + r"\end{aligned}", True)]
        if env == "center":
            inner = _paragraphs(self._sub(body), False)
            return [_BLOCK + '<div style="text-align:center">' + inner + "</div>"] if inner else []
        if env in ("tabular", "tabular*", "tabularx", "array"):
            return [_BLOCK + self._table(body, env)]
        if env in ("itemize", "enumerate"):
            items = [x for x in re.split(r"\\item\b(?:\[[^\]]*\])?", body)[1:]]
            tag = "ul" if env == "itemize" else "ol"
            lis = "".join(f"<li>{self._inline(item)}</li>" for item in items)
            return [_BLOCK + f"<{tag}>{lis}</{tag}>"]
        if env in ("quote", "quotation", "minipage", "flushleft", "flushright", "parts", "solution"):
            if env == "minipage":
                self._optional()
                self._group()
            return [_PARA, *self._sub(body), _PARA]
        self.unknown.add(f"\\begin{{{env}}}")
        return [_PARA, *self._sub(body), _PARA]

    def _table(self, body: str, env: str) -> str:
        inner = _Converter(body, self.figure_note, self.math, self.with_pictures)
        if env in ("tabular*", "tabularx"):
            inner._group()
        inner._optional()
        inner._group()  # the column spec
        rest = body[inner.i:]
        rest = re.sub(r"\\(hline|toprule|midrule|bottomrule)\b", "", rest)
        rest = re.sub(r"\\cline\{[^}]*\}", "", rest)
        rows = []
        for row in split_top(rest, "\\\\"):
            if not row.strip():
                continue
            cells = [self._inline(cell) for cell in split_top(row, "&")]
            rows.append("<tr>" + "".join(f'<td style="padding:2px 10px">{c}</td>' for c in cells) + "</tr>")
        return '<table style="border-collapse:collapse;margin:0.5em auto" border="1">' + "".join(rows) + "</table>"
