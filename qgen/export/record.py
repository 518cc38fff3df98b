"""The JSON export: an exam set's questions, parts and answer cells for other tools (pure).

A stable, documented shape (`schema: "qgen-export"`, `schema_version: 1`; a change that
removes or renames a key raises the version, new keys may appear without). Every part is
listed, with `auto: false` and the reason for those an LMS cannot grade. Numbers are given
as exact decimal text (`answer`: the value qgen grades against) and as a float
(`answer_float`); tolerances are absolute decimal text. Cell `column`s are the columns of
answers-template.csv, so a tool can write an answer sheet that `qgen grade` reads.

    {"schema": "qgen-export", "schema_version": 1, "qgen": "...",
     "exam": {"id", "title", "course", "date"},
     "tolerance_rule": "...", "notes": ["..."],
     "versions": [{"version": "1", "points_auto": 62.0, "questions": [
       {"index": 1, "title": "...", "title_tex": "...", "family": "...", "seed": 123, "points": 15.0,
        "points_auto": 9.0, "places": 4, "figure": "none|illustration|essential",
        "statement_html": "<p>…</p>", "blocks": [{"kind": "text|heading|part", "html", "tex", "part"}],
        "parts": [{"id", "letter", "kind", "section", "points", "prompt_tex", "prompt_html", "auto",
                   "omitted", "places", "tolerance": {"atol", "rtol"} | null, "worked": ["…"],
                   "cells": [{"column", "kind", "entry", "symbol", "answer", "answer_float", "tolerance",
                              "accept": [{"answer", "tolerance"}], "choices": [...], "points"}]}]}]}]}
"""

from __future__ import annotations

import json
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from qgen.export.model import (
    Cell,
    ExamExport,
    PartExport,
    QuestionExport,
    tolerance_text,
)

SCHEMA = "qgen-export"
SCHEMA_VERSION = 1
TOLERANCE_RULE = ("a number s is right for the key t when |s - t| <= max(atol, rtol*|t|); each cell's `tolerance` "
                  "is that bound for its own t, rounded down to 6 significant digits")


def _num(x: Fraction) -> float | int:
    return int(x) if x.denominator == 1 else float(x)


def _decimal(x: Fraction) -> str:
    """A tolerance bound as decimal text (exact when it terminates, 20 significant digits if not)."""
    with localcontext() as ctx:
        ctx.prec = 20
        return tolerance_text(Decimal(x.numerator) / Decimal(x.denominator))


def cell_record(c: Cell) -> dict[str, Any]:
    out: dict[str, Any] = {"column": c.column, "kind": c.kind, "entry": c.entry, "symbol": c.symbol,
                           "answer": c.value, "points": _num(c.points)}
    if c.kind in ("number", "integer"):
        out["answer_float"] = float(c.answer) if c.kind == "number" else int(c.answer)
        out["tolerance"] = tolerance_text(c.tolerance or 0)
        out["accept"] = [{"answer": v, "tolerance": tolerance_text(t)} for v, t in c.alternatives]
    else:
        out["choices"] = list(c.choices)
    return out


def part_record(p: PartExport) -> dict[str, Any]:
    tol = None if p.tolerance is None else {"atol": _decimal(p.tolerance.atol), "rtol": _decimal(p.tolerance.rtol)}
    return {"id": p.id, "letter": p.letter, "kind": p.kind, "section": p.section, "points": _num(p.points),
            "prompt_tex": p.prompt_tex, "prompt_html": p.prompt_html, "auto": p.auto, "omitted": p.omitted or None,
            "places": p.places, "tolerance": tol, "worked": list(p.worked),
            "cells": [cell_record(c) for c in p.cells]}


def question_record(q: QuestionExport) -> dict[str, Any]:
    return {"index": q.index, "title": q.title, "title_tex": q.title_tex, "family": q.family, "seed": q.seed,
            "points": _num(q.points), "points_auto": _num(q.auto_points), "places": q.places, "figure": q.figure,
            "statement_html": q.statement_html(),
            "blocks": [{"kind": b.kind, "html": b.html, "tex": b.tex, "part": b.part or None} for b in q.blocks],
            "parts": [part_record(p) for p in q.parts], "warnings": list(q.warnings)}


def export_record(exam: ExamExport) -> dict[str, Any]:
    """The export as JSON-able data."""
    return {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "qgen": exam.qgen,
        "exam": {"id": exam.id, "title": exam.title, "course": exam.course, "date": exam.date},
        "tolerance_rule": TOLERANCE_RULE, "notes": list(exam.notes),
        "versions": [{"version": v.id, "points_auto": _num(v.auto_points),
                      "questions": [question_record(q) for q in v.questions]} for v in exam.versions],
    }


def export_json(exam: ExamExport) -> str:
    """The JSON text (UTF-8, non-ASCII kept as is, indented)."""
    return json.dumps(export_record(exam), indent=1, ensure_ascii=False) + "\n"
