"""Item analysis of a graded answer sheet: score distribution, difficulty, discrimination, slips (pure).

`analyse` turns the graded rows and the manifest into numbers; `report_html` into one
self-contained page (CSS inline, plots as base64 PNG data URIs, nothing fetched from a network).
Definitions, over the rows with status `graded` and the auto-graded parts only:

- percent: the grades.csv percent (total / the version's points) when the grades table is given,
  else the auto-graded total over the version's points;
- difficulty of a part: the mean credit share, earned / points (1 = everyone right, a p-value);
- discrimination: the corrected item–total correlation, Pearson's r between a part's credit
  share and the student's auto-graded total minus that part (the point-biserial correlation for
  a right/wrong part); None where it is undefined (fewer than 2 students, or no spread);
- reliability: Cronbach's α of the auto-graded parts' points.

>>> round(correlation([0, 0, 1, 1], [1, 2, 3, 4]), 4)
0.8944
"""

from __future__ import annotations

import base64
import html
import io
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qgen.grade.columns import part_name
from qgen.grade.score import PartScore
from qgen.grade.sheet import Graded, score_columns

SLIP = "slip: "
BINS = 10  # the histogram's bins: 0–10 %, …, 90–100 %


@dataclass(frozen=True)
class PartStats:
    """One auto-graded part over the graded students."""

    column: str
    n: int
    difficulty: float | None
    discrimination: float | None
    correct: int
    partial: int
    wrong: int
    blank: int
    malformed: int
    ecf: int


@dataclass(frozen=True)
class Analysis:
    """Everything report.html shows."""

    rows: int
    graded: list[Graded]
    not_graded: list[Graded]
    percents: list[float]
    parts: list[PartStats]
    slips: list[tuple[str, int, Counter]]  # (slip, how often, Counter of the columns it was on)
    alpha: float | None


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r of two equally long sequences (None: fewer than 2 pairs, or one has no spread)."""
    n = len(xs)
    if n < 2 or n != len(ys):
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sxy / (sxx * syy) ** 0.5


def histogram(percents: Sequence[float], bins: int = BINS) -> list[int]:
    """Counts of percents in equal bins over 0–100 (100 goes in the last bin; out of range is clamped).

    >>> histogram([0, 9.9, 10, 55, 100, 120])
    [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    """
    counts = [0] * bins
    for p in percents:
        counts[min(max(int(p * bins // 100), 0), bins - 1)] += 1
    return counts


def cronbach_alpha(items: Sequence[Sequence[float]]) -> float | None:
    """Cronbach's α of per-student item scores (rows: students); None when undefined.

    >>> round(cronbach_alpha([[1, 1], [0, 0], [1, 0], [0, 1]]), 4)
    0.0
    """
    if len(items) < 2 or len(items[0]) < 2:
        return None
    k = len(items[0])
    item_var = sum(statistics.pvariance([row[i] for row in items]) for i in range(k))
    total_var = statistics.pvariance([sum(row) for row in items])
    return None if total_var <= 1e-12 else k / (k - 1) * (1 - item_var / total_var)


def analyse(manifest: Mapping[str, Any], graded: Sequence[Graded],
            table: Sequence[Sequence[str]] | None = None) -> Analysis:
    """The item analysis of graded rows (`table`: grades.csv as rows, for its percent column)."""
    done = [g for g in graded if g.status == "graded"]
    auto = _auto_columns(manifest)
    scores = [{s.column: s for s in g.scores if s.earned is not None and s.points > 0} for g in done]
    parts = [_part_stats(c, done, scores) for c in auto]
    complete = [c for c in auto if all(c in by for by in scores)]
    alpha = cronbach_alpha([[by[c].earned for c in complete] for by in scores]) if complete else None
    slips: dict[str, Counter] = {}
    for g in done:
        for s in g.scores:
            if s.note.startswith(SLIP):
                slips.setdefault(s.note[len(SLIP):].strip(), Counter())[s.column] += 1
    ranked = sorted(((k, sum(c.values()), c) for k, c in slips.items()), key=lambda t: (-t[1], t[0]))
    return Analysis(len(graded), done, [g for g in graded if g.status != "graded"],
                    _percents(manifest, done, table), parts, ranked, alpha)


def _auto_columns(manifest: Mapping[str, Any]) -> list[str]:
    manual = {part_name(q["index"], p) for v in manifest["versions"] for q in v["questions"]
              for p in q["parts"] if p["kind"] == "text"}
    return [c for c in score_columns(manifest) if c not in manual]


def _part_stats(column: str, done: Sequence[Graded], scores: Sequence[Mapping[str, PartScore]]) -> PartStats:
    shares, rests, status = [], [], Counter()
    for g, by in zip(done, scores):
        s = by.get(column)
        if s is None:
            continue
        shares.append(s.earned / s.points)
        rests.append(g.total - s.earned)
        status[s.status] += 1
    difficulty = sum(shares) / len(shares) if shares else None
    return PartStats(column, len(shares), difficulty, correlation(shares, rests), status["correct"],
                     status["partial"], status["wrong"], status["blank"], status["malformed"], status["ecf"])


def _percents(manifest: Mapping[str, Any], done: Sequence[Graded],
              table: Sequence[Sequence[str]] | None) -> list[float]:
    if table:
        head = list(table[0])
        i, st = head.index("percent"), head.index("status")
        return [float(r[i]) for r in table[1:] if r[st] == "graded" and r[i].strip()]
    top = {str(v["version"]): float(v["points"]) for v in manifest["versions"]}
    return [100 * g.total / top[g.version] for g in done if top.get(g.version)]


# --- HTML -------------------------------------------------------------------------------------

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;
 max-width:980px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{padding:.3em .6em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#777}.summary td:first-child{color:#555}
img{max-width:100%;height:auto;display:block;margin:.6em 0}
.bad{color:#a40000}.ok{color:#1a6e1a}.warn{color:#8a5a00}code{font-size:.95em}
"""


def page(title: str, body: str) -> str:
    """A complete HTML document with the shared inline style (`title` is escaped, `body` is trusted HTML)."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


def table_html(head: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "",
               numeric: Sequence[int] = ()) -> str:
    """A table of already-escaped cells (`numeric`: column indices aligned right)."""
    out = [f'<table class="{cls}">' if cls else "<table>", "<thead><tr>",
           *(f"<th>{h}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>")
    return "".join(out) + "</tbody></table>"


def _fmt(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def report_html(manifest: Mapping[str, Any], graded: Sequence[Graded],
                table: Sequence[Sequence[str]] | None = None) -> str:
    """report.html: summary, the plots, the per-part table, the diagnosed slips, the rows not graded."""
    a = analyse(manifest, graded, table)
    exam = manifest.get("exam", {})
    title = f"Item analysis: {exam.get('title') or exam.get('id') or 'exam'}"
    p = a.percents
    summary = [
        ("rows in the answer file", str(a.rows)), ("graded", str(len(a.graded))),
        ("not graded", str(len(a.not_graded))),
        ("mean percent", _fmt(statistics.fmean(p), 1) if p else "—"),
        ("median percent", _fmt(statistics.median(p), 1) if p else "—"),
        ("standard deviation", _fmt(statistics.stdev(p), 1) if len(p) > 1 else "—"),
        ("lowest / highest", f"{_fmt(min(p), 1)} / {_fmt(max(p), 1)}" if p else "—"),
        ("Cronbach's α (auto-graded parts)", _fmt(a.alpha)),
    ]
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="muted">{html.escape(str(exam.get("course", "")))} {html.escape(str(exam.get("date", "")))}</p>',
            "<h2>Summary</h2>", table_html(["", ""], [(html.escape(k), v) for k, v in summary], "summary", (1,)),
            "<h2>Score distribution</h2>"]
    if p:
        body.append(_img(histogram_png(p), "Histogram of the students' percent scores"))
    else:
        body.append('<p class="muted">No graded rows.</p>')
    body.append("<h2>Parts</h2>")
    if a.parts and a.graded:
        body.append(_img(parts_png(a.parts), "Difficulty and discrimination of each part"))
    body.append(
        "<p>Difficulty is the mean credit share (earned / points: 1.00 means every student got it right). "
        "Discrimination is the corrected item–total correlation: Pearson's r between the part's credit share "
        "and the student's auto-graded total without that part (point-biserial for right/wrong parts); "
        "below 0.2 the part separates strong from weak students poorly, a negative value deserves a look "
        "at the key. ECF: credit carried forward from the student's own earlier answers.</p>")
    rows = [(html.escape(s.column), str(s.n), _fmt(s.difficulty), _fmt(s.discrimination), str(s.correct),
             str(s.partial), str(s.wrong), str(s.ecf), str(s.blank), str(s.malformed)) for s in a.parts]
    body.append(table_html(["part", "students", "difficulty", "discrimination", "correct", "partial", "wrong",
                            "ECF", "blank", "malformed"], rows, "parts", range(1, 10)))
    body.append("<h2>Most common diagnosed mistakes</h2>")
    if a.slips:
        body.append(table_html(["mistake", "times", "parts"], [
            (html.escape(k), str(n), html.escape(", ".join(f"{c} ×{m}" for c, m in cols.most_common())))
            for k, n, cols in a.slips[:20]], "slips", (1,)))
    else:
        body.append('<p class="muted">No answer matched a known mistake.</p>')
    body.append("<h2>Rows not graded</h2>")
    if a.not_graded:
        body.append(table_html(["student id", "version", "status"], [
            (html.escape(g.student_id) or '<span class="muted">(none)</span>', html.escape(g.version),
             html.escape(g.status)) for g in a.not_graded], "not-graded"))
    else:
        body.append('<p class="muted">Every row was graded.</p>')
    return page(title, "\n".join(body))


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # lazily: importing qgen stays fast

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def histogram_png(percents: Sequence[float]) -> bytes:
    """The score distribution as a PNG bar chart (matplotlib, Agg)."""
    counts = histogram(percents)
    fig = _figure(7, 3.2)
    ax = fig.add_subplot()
    width = 100 / BINS
    ax.bar([i * width for i in range(BINS)], counts, width=width * 0.92, align="edge", color="#3b6ea8")
    ax.set_xlim(0, 100)
    ax.set_xticks([i * width for i in range(BINS + 1)])
    ax.set_xlabel("percent")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def parts_png(parts: Sequence[PartStats]) -> bytes:
    """Difficulty and discrimination per part, side by side (horizontal bars, exam order top down)."""
    labels = [s.column.replace("$", r"\$") for s in parts]
    ys = list(range(len(parts)))[::-1]
    fig = _figure(8, 1.2 + 0.26 * len(parts))
    left, right = fig.subplots(1, 2, sharey=True)
    left.barh(ys, [s.difficulty or 0 for s in parts], color="#3b6ea8")
    left.set_xlim(0, 1)
    left.set_title("difficulty (mean credit share)", fontsize=10)
    left.set_yticks(ys, labels, fontsize=8)
    disc = [s.discrimination or 0 for s in parts]
    right.barh(ys, disc, color=["#a83b3b" if d < 0.2 else "#3b8a4a" for d in disc])
    right.axvline(0, color="#555", linewidth=0.8)
    right.axvline(0.2, color="#999", linewidth=0.8, linestyle="--")
    right.set_xlim(min(-0.2, min(disc, default=0) - 0.05), 1)
    right.set_title("discrimination (item–rest r)", fontsize=10)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
