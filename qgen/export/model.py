"""An exam set's auto-gradable parts, ready for an LMS: built from manifest.json alone (pure).

Every question is rebuilt from its stored parameters (the family's `build`, no sampling) to get
the statement the students read, in the notation and precision the manifest records; the
answers, points and tolerances come from the manifest itself, exactly as `qgen grade` reads
them. A part becomes one or more *cells*, one per column of answers-template.csv: a number
is one cell, a vector or matrix one cell per entry; shapes, whole numbers and labels are one
cell each. Formula parts and parts graded by hand are left out, with the reason.

Tolerance: qgen accepts s for the true value t when |s − t| ≤ max(atol, rtol·|t|) (see
`qgen.grade.compare`); an LMS wants one absolute tolerance per answer, so each cell gets
max(atol, rtol·|t|) rounded *down* to 6 significant digits: whatever the LMS accepts, qgen
accepts too.

>>> absolute_tolerance(Fraction("0.1192"), Tolerance.for_places(4))
Decimal('0.001192')
>>> decimal_text(1e-05), decimal_text(-2.0), decimal_text(0.30000000000000004)
('0.00001', '-2', '0.30000000000000004')
"""

from __future__ import annotations

import decimal
import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from qgen import families, numeric
from qgen.errors import QgenError
from qgen.export.markup import (
    FIGURE_MARK_RE,
    FIGURE_NOTE,
    Html,
    plain_text,
    tex_to_html,
)
from qgen.export.statement import Block, statement_blocks
from qgen.grade.columns import part_columns
from qgen.grade.compare import NUMERIC, Tolerance
from qgen.notation import PROFILES, resolve
from qgen.render.exam import precision_note

FIGURE_SRC = "@@QGENFIGURE@@/"  # an image's reference in exported HTML until an exporter writes its own
Draw = Callable[[list[str]], list[bytes]]  # TikZ pictures -> PNG bytes, in order
TOLERANCE_DIGITS = 6  # significant digits of an exported tolerance (rounded down)
LABEL_CHOICES = (("yes", "no"), ("0", "1"), ("true", "false"))
FIGURE_ESSENTIAL = frozenset({"graph-forward"})  # families whose statement needs its figure
_META = {"family", "seed", "notation", "solution", "parts", "index", "title", "points"}
_GRADABLE = (*NUMERIC, "integer", "label", "shape")
_OMITTED = {
    "text": "graded by hand (an explanation, derivation or drawing)",
    "expression": "a formula: an LMS cannot grade it numerically",
}


class ExportError(QgenError):
    """An exam folder that cannot be exported (no manifest, nothing an LMS can grade, unknown format)."""


@dataclass(frozen=True)
class Cell:
    """One answer box: a column of answers-template.csv and what is right in it.

    `value` is the answer as exact decimal text (numbers: the shortest decimal of the value qgen
    grades against), the label, or the shape as `RxC`. `tolerance` is absolute (numbers; 0 for
    whole numbers), `alternatives` other (value, tolerance) pairs worth full credit, `choices`
    the options of a label (the answer among them) or the accepted spellings of a shape.
    """

    column: str
    kind: str  # number | integer | label | shape
    answer: Any
    value: str
    points: Fraction
    tolerance: Decimal | None = None
    alternatives: tuple[tuple[str, Decimal], ...] = ()
    choices: tuple[str, ...] = ()
    entry: str = ""  # "1", "2,1": the entry of a vector or matrix ("" for a whole part)
    symbol: str = ""  # the entry's LaTeX symbol (math mode), "" when unknown
    shown: tuple[tuple[str, Decimal], ...] = ()  # numbers: (answer to the exam's decimals, margin) for an LMS

    @property
    def lms_answers(self) -> list[tuple[str, Decimal]]:
        """The (value, absolute tolerance) pairs an LMS is given: the answer as the key prints it (the exam's
        decimals) with a margin that still holds everything qgen accepts (see `shown_answer`)."""
        if self.shown:
            return list(self.shown)
        return [(self.value, self.tolerance or Decimal(0)), *self.alternatives]


@dataclass(frozen=True)
class PartExport:
    """A part of a question: its prompt, and its cells (none when it is left out, with the reason)."""

    id: str
    letter: str
    kind: str
    points: Fraction
    prompt_tex: str
    prompt_html: str
    section: str
    cells: tuple[Cell, ...] = ()
    omitted: str = ""
    places: int | None = None
    tolerance: Tolerance | None = None
    worked: tuple[str, ...] = ()  # worked-solution lines (math mode), when the question could be rebuilt
    shape: tuple[int, int] | None = None  # a matrix part's rows and columns

    @property
    def auto(self) -> bool:
        """Graded by the LMS."""
        return bool(self.cells)


@dataclass(frozen=True)
class QuestionExport:
    """One version of one exam question."""

    index: int
    title: str  # plain text
    title_tex: str
    family: str
    seed: int | None
    points: Fraction
    blocks: tuple[Block, ...]  # statement text, headings, interludes and parts, in exam order
    parts: tuple[PartExport, ...]
    places: int
    figure: str = "none"  # none | illustration | essential
    warnings: tuple[str, ...] = ()
    drawn: bool = False  # its figures are images in the export (else a note, or left out)

    @property
    def auto_parts(self) -> list[PartExport]:
        return [p for p in self.parts if p.auto]

    @property
    def auto_points(self) -> Fraction:
        return sum((p.points for p in self.auto_parts), Fraction(0))

    @property
    def cells(self) -> list[Cell]:
        return [c for p in self.parts for c in p.cells]

    def part(self, pid: str) -> PartExport:
        return next(p for p in self.parts if p.id == pid)

    def statement_html(self) -> str:
        """The text before the first part (the question's statement) as HTML."""
        return "\n".join(b.html for b in self.blocks if b.kind == "text" and b.before_parts)

    def precision_html(self) -> str:
        return f"<p><em>{precision_note(self.places)}</em></p>" if any(
            c.kind == "number" for c in self.cells) else ""


@dataclass(frozen=True)
class VersionExport:
    id: str
    questions: tuple[QuestionExport, ...]

    @property
    def auto_points(self) -> Fraction:
        return sum((q.auto_points for q in self.questions), Fraction(0))


@dataclass(frozen=True)
class ExamExport:
    """Everything the exporters need: exam facts, versions, and notes for the instructor."""

    id: str
    title: str
    course: str
    date: str
    qgen: str
    versions: tuple[VersionExport, ...]
    notes: tuple[str, ...] = field(default=())
    images: tuple[tuple[str, bytes], ...] = ()  # (file name, PNG bytes) referenced as FIGURE_SRC + name

    @property
    def auto_cells(self) -> int:
        return sum(len(q.cells) for v in self.versions for q in v.questions)


# -- numbers ---------------------------------------------------------------------------------
def decimal_text(x: Any) -> str:
    """A number as plain decimal text, no exponent: the shortest decimal of a float (its repr)."""
    if isinstance(x, bool):
        raise TypeError("a truth value is not a number")
    d = Decimal(x) if isinstance(x, int) else Decimal(repr(float(x)))
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def absolute_tolerance(truth: Fraction, tol: Tolerance, digits: int = TOLERANCE_DIGITS) -> Decimal:
    """qgen's max(atol, rtol·|t|) for the true value t, rounded down to `digits` significant digits."""
    exact = max(tol.atol, tol.rtol * abs(truth))
    if exact == 0:
        return Decimal(0)
    ctx = decimal.Context(prec=digits, rounding=decimal.ROUND_DOWN)
    return ctx.divide(Decimal(exact.numerator), Decimal(exact.denominator)).normalize()


def shown_answer(value: Any, places: int, tol: Tolerance, digits: int = TOLERANCE_DIGITS) -> tuple[str, Decimal]:
    """A number as an LMS shows it, rounded as the key prints it (`places` decimals), and the margin around it
    that holds qgen's whole interval around the exact value t: max(atol, rtol·|t|) + |shown − t|, rounded *up*
    to `digits` significant digits. So the LMS accepts the exact key and all qgen accepts, and at most
    |shown − t| ≤ ½·10^(−places) more on one side.

    >>> shown_answer(0.1192029220221175, 4, Tolerance.for_places(4))
    ('0.1192', Decimal('0.00119496'))
    """
    exact = numeric.exact(value)
    shown = numeric.decimal_str(exact, places)
    d = Decimal(shown)
    if d == 0:
        shown = shown.lstrip("-")
    margin = max(tol.atol, tol.rtol * abs(exact)) + abs(Fraction(d) - exact)
    if margin == 0:
        return shown, Decimal(0)
    ctx = decimal.Context(prec=digits, rounding=decimal.ROUND_UP)
    return shown, ctx.divide(Decimal(margin.numerator), Decimal(margin.denominator)).normalize()


def tolerance_text(tol: Decimal) -> str:
    """An exported tolerance as plain decimal text: Decimal('5.1E-5') -> '0.000051'."""
    return format(tol.normalize(), "f") if tol else "0"


def label_choices(answer: Any) -> tuple[str, ...]:
    """The options a label part offers (yes/no, 0/1), or () when they cannot be told."""
    a = str(answer).strip().lower()
    return next((c for c in LABEL_CHOICES if a in c), ())


def shape_spellings(rows: int, cols: int) -> tuple[str, ...]:
    """Ways of typing a shape that qgen's parser reads as rows x columns (an LMS compares text)."""
    r, c = rows, cols
    return (f"{r}x{c}", f"{r} x {c}", f"{r}\u00d7{c}", f"{r} \u00d7 {c}", f"({r}, {c})", f"({r},{c})",
            f"{r}, {c}", f"{r},{c}", f"{r} by {c}")


def letter(i: int) -> str:
    """The exam class's part label for the i-th part (0-based): a, b, …, z, aa, ab, …"""
    return chr(97 + i) if i < 26 else letter(i // 26 - 1) + chr(97 + i % 26)


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    return [value]


def _points(value: Any) -> Fraction:
    return numeric.exact(value) if not isinstance(value, Fraction) else value


# -- building ------------------------------------------------------------------------------------
def cells_of(index: int, part: Mapping[str, Any], symbols: Sequence[str] = ()) -> tuple[Cell, ...]:
    """The answer cells of a manifest part record (none for a formula or a part graded by hand)."""
    kind, answer, points = part["kind"], part.get("answer"), _points(part["points"])
    cols = part_columns(index, part)
    if points == 0:  # a practice part worth nothing: an LMS cannot weigh a cell by 0 (Moodle makes it 1)
        return ()
    if kind in NUMERIC:
        places = int(part.get("places", 4))
        tol = Tolerance.from_spec(part["tolerance"], places) if part.get("tolerance") else Tolerance.for_places(places)
        values = _flat(answer)
        accepted = [_flat(a) for a in part.get("accept", ()) if len(_flat(a)) == len(values)]
        share = points / len(values)
        out = []
        for i, (col, v) in enumerate(zip(cols, values)):
            alts = tuple(dict.fromkeys((decimal_text(a[i]), absolute_tolerance(numeric.exact(a[i]), tol))
                                       for a in accepted if decimal_text(a[i]) != decimal_text(v)))
            shown = [shown_answer(v, places, tol)]
            for a in accepted:
                alt = shown_answer(a[i], places, tol)
                if alt[0] not in [x for x, _ in shown]:
                    shown.append(alt)
            out.append(Cell(col.name, "number", v, decimal_text(v), share, absolute_tolerance(numeric.exact(v), tol),
                            alts, entry=",".join(map(str, col.entry)), symbol=symbols[i] if i < len(symbols) else "",
                            shown=tuple(shown)))
        return tuple(out)
    if kind == "integer":
        return (Cell(cols[0].name, "integer", answer, str(int(answer)), points, Decimal(0)),)
    if kind == "label":
        choices = label_choices(answer)
        shown = next((c for c in choices if c == str(answer).strip().lower()), str(answer))
        return (Cell(cols[0].name, "label", answer, shown, points, choices=choices),)
    if kind == "shape":
        r, c = (int(x) for x in answer)
        return (Cell(cols[0].name, "shape", answer, f"{r}x{c}", points, choices=shape_spellings(r, c)),)
    return ()


def rebuild(record: Mapping[str, Any], places: int):
    """The family's Question for a manifest question record (the statement's source), or an error text."""
    params = {k: v for k, v in record.items() if k not in _META}
    name = record.get("notation")
    notation = resolve(name if name in PROFILES else None)
    try:
        return families.get(record["family"]).build(params, notation, places), ""
    except (QgenError, KeyError, TypeError, ValueError) as e:
        return None, f"cannot rebuild its statement from the manifest ({type(e).__name__}: {e})"


def question_export(record: Mapping[str, Any], exam_places: int) -> QuestionExport:
    """One manifest question record -> its export (statement, parts, cells, warnings), figures as notes."""
    return place_figures(_question(record, exam_places), {})


def place_figures(q: QuestionExport, images: Mapping[str, str]) -> QuestionExport:
    """The figure marks of a question's blocks replaced: by an <img> of `images[key]` (a file name, referenced
    as FIGURE_SRC + name, which each exporter rewrites to its own form), else by FIGURE_NOTE when the statement
    needs the figure, else by nothing."""
    drawn = False

    def one(m: re.Match[str]) -> str:
        nonlocal drawn
        name = images.get(m.group(1))
        if name:
            drawn = True
            return (f'<p class="qgen-figure" style="text-align:center"><img src="{FIGURE_SRC}{name}" '
                    f'alt="Figure of question {q.index}" style="max-width:100%"></p>')
        if q.family in FIGURE_ESSENTIAL:
            return f'<p class="qgen-figure"><em>{html.escape(FIGURE_NOTE)}</em></p>'
        return ""

    blocks = []
    for b in q.blocks:
        if b.pictures:
            text = re.sub(r"\n{2,}", "\n", FIGURE_MARK_RE.sub(one, b.html)).strip()
            if not text:
                continue
            b = replace(b, html=text, pictures=())
        blocks.append(b)
    return replace(q, blocks=tuple(blocks), drawn=drawn)


def _question(record: Mapping[str, Any], exam_places: int) -> QuestionExport:
    """One manifest question record -> its export, figures still marked (FIGURE_MARK in its blocks)."""
    index, family = int(record["index"]), record["family"]
    parts_rec = list(record["parts"])
    places = next((int(p["places"]) for p in parts_rec if "places" in p), exam_places)
    built, problem = rebuild(record, places)
    warnings: list[str] = [problem] if problem else []
    by_id = {p.id: p for p in built.parts} if built is not None else {}
    missing = [p["id"] for p in parts_rec if p["id"] not in by_id]
    if built is not None and missing:
        warnings.append(f"the rebuilt question has no part {', '.join(missing)}; their prompts come from the manifest")
    if built is not None and any(by_id[p["id"]].prompt != p["prompt"] for p in parts_rec if p["id"] in by_id):
        warnings.append("its rebuilt statement reads differently from the printed exam (notation overrides are "
                        "not recorded in manifest.json); check the symbols in the exported statement")

    blocks: tuple[Block, ...] = ()
    figure_count, unknown = 0, set()
    if built is not None:
        selected = [replace(by_id[p["id"]], points=p["points"]) for p in parts_rec if p["id"] in by_id]
        note = FIGURE_NOTE if family in FIGURE_ESSENTIAL else None  # an illustration is left out silently
        blocks, figure_count, unknown = statement_blocks(replace(built, parts=selected), [p["id"] for p in parts_rec],
                                                         note)
    if not blocks:  # no statement: the parts alone, under their section headings
        blocks = tuple(Block("part", "", "", p["id"]) for p in parts_rec)
    if unknown:
        warnings.append(f"LaTeX the export does not understand was dropped: {', '.join(sorted(unknown))}")

    parts = []
    for i, rec in enumerate(parts_rec):
        source = by_id.get(rec["id"])
        symbols: list[str] = []
        if source is not None and built is not None:
            for key in rec.get("keys", ()):
                try:
                    symbols.append(built.trace.symbol(key, built.notation))
                except (KeyError, AttributeError, TypeError, ValueError):  # a family's own printer: entry numbers
                    symbols = []
                    break
        prompt: Html = tex_to_html(rec["prompt"], inline=True)
        unknown_prompt = set(prompt.unknown)
        if unknown_prompt - unknown:
            unknown |= unknown_prompt
            warnings.append(f"part {rec['id']}: LaTeX dropped: {', '.join(sorted(unknown_prompt))}")
        cells = cells_of(index, rec, symbols)
        kind = rec["kind"]
        omitted = "" if cells else "worth 0 points" if kind in _GRADABLE and not _points(rec["points"]) else \
            _OMITTED.get(kind, f"a {kind} part")
        tol = None
        if kind in NUMERIC:
            p_places = int(rec.get("places", 4))
            tol = (Tolerance.from_spec(rec["tolerance"], p_places) if rec.get("tolerance")
                   else Tolerance.for_places(p_places))
        answer = rec.get("answer")
        shape = (len(answer), len(answer[0])) if kind == "matrix" else None
        parts.append(PartExport(rec["id"], letter(i), kind, _points(rec["points"]), rec["prompt"], prompt.html,
                                rec.get("section", ""), cells, omitted, rec.get("places"), tol,
                                tuple(source.worked) if source is not None and cells else (), shape))

    figure = "none"
    if figure_count:
        figure = "essential" if family in FIGURE_ESSENTIAL else "illustration"
    title_tex = str(record.get("title", ""))
    return QuestionExport(index, plain_text(title_tex) or family, title_tex, family, record.get("seed"),
                          _points(record.get("points", sum(_points(p["points"]) for p in parts_rec))),
                          tuple(blocks), tuple(parts), places, figure, tuple(warnings))


def exam_export(manifest: Mapping[str, Any], draw: Draw | None = None) -> ExamExport:
    """A manifest (as `qgen generate` writes it) -> everything the exporters need, with notes.

    `draw` turns TikZ pictures into PNG bytes (qgen.render.pdf.figure_pngs; it may raise QgenError). Without
    it, or when it fails (said in the notes), figures are notes or left out as before.
    """
    exam = manifest.get("exam", {})
    places = int(exam.get("precision", 4))
    raw = [(str(v["version"]), [_question(q, places) for q in v["questions"]]) for v in manifest.get("versions", ())]
    pictures: dict[str, str] = {}
    for _, qs in raw:
        for q in qs:
            if q.cells:  # only questions that reach an LMS
                for b in q.blocks:
                    pictures.update(b.pictures)
    images: dict[str, str] = {}
    files: list[tuple[str, bytes]] = []
    problem = ""
    if draw is not None and pictures:
        try:
            pngs = draw(list(pictures.values()))
        except QgenError as e:
            problem = str(e).splitlines()[0]
        else:
            for key, png in zip(pictures, pngs):
                images[key] = f"qgen-figure-{key}.png"
                files.append((images[key], png))
    versions = tuple(VersionExport(vid, tuple(place_figures(q, images) for q in qs)) for vid, qs in raw)
    extra = (f"figures could not be drawn ({problem}); they are left out or noted as in the printed exam",
             ) if problem else ()
    return ExamExport(str(exam.get("id", "exam")), str(exam.get("title", "")), str(exam.get("course") or ""),
                      str(exam.get("date") or ""), str(manifest.get("qgen", "")), versions,
                      extra + notes(versions), tuple(files))


def notes(versions: Sequence[VersionExport]) -> tuple[str, ...]:
    """What the instructor should know: parts left out, figures, statements to check (one line per fact)."""
    out: list[str] = []
    by_index: dict[int, list[QuestionExport]] = {}
    for v in versions:
        for q in v.questions:
            by_index.setdefault(q.index, []).append(q)
    for index, qs in sorted(by_index.items()):
        name = f"Q{index} ({qs[0].title})"
        reasons: dict[str, list[str]] = {}
        for q in qs:
            for p in q.parts:
                if p.omitted:
                    ids = reasons.setdefault(p.omitted, [])
                    if p.id not in ids:
                        ids.append(p.id)
        for why, ids in reasons.items():
            out.append(f"{name}: left out {', '.join(ids)}: {why}")
        if not any(q.cells for q in qs):
            out.append(f"{name}: nothing an LMS can grade; no LMS question is made for it")
        if any(q.figure != "none" for q in qs) and all(q.drawn for q in qs if q.figure != "none" and q.cells):
            out.append(f"{name}: its figure is drawn from the exam's TikZ and embedded as an image")
        elif any(q.figure == "essential" for q in qs):
            out.append(f"{name}: its statement needs a figure (TikZ) that cannot be exported; the LMS text says "
                       "'(Figure: see the printed exam.)': hand the figure out or leave this question out")
        elif any(q.figure == "illustration" for q in qs):
            out.append(f"{name}: its figure is left out (an illustration: the text gives every number)")
        seen: list[str] = []
        for q in qs:
            for w in q.warnings:
                if w not in seen:
                    seen.append(w)
        out.extend(f"{name}: {w}" for w in seen)
    return tuple(out)
