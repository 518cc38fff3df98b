"""A made-up class's answer sheet for a generated exam set: the demo of `qgen grade` (pure, seeded).

Each student gets a version in turn and answers its auto-graded parts the way people do: most
right, typed in the forms people use (decimal comma, unicode minus, a percentage), some blank,
and some with one slip in a question whose later answers are computed from the slipped value — the
case error-carried-forward is for: half of them a wrong early value, half a classic slip that
mistake diagnosis names (`qgen.grade.diagnose`). Two extra rows show the statuses a real sheet
produces (a student entered twice, a version that does not exist).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from qgen import numeric
from qgen.grade import diagnose
from qgen.grade.columns import FIXED, answer_columns, part_columns
from qgen.grade.score import Question


def _typed(value: Any, places: int, rng: random.Random) -> str:
    """A number as a student might type it."""
    exact = numeric.exact(value) if isinstance(value, (int, float, str)) else value  # a Trace value may be an mpf
    text = numeric.decimal_str(exact, places)
    style = rng.random()
    if style < 0.1:
        text = text.replace(".", ",")
    elif style < 0.15 and text.startswith("-"):
        text = "\u2212" + text[1:]
    return text


def _student(question: Question, rng: random.Random, slip: bool) -> dict[str, str]:
    """One student's cells for one question."""
    record = question.record
    parts = [p for p in record["parts"] if p["kind"] != "text"]
    env = None
    if slip and question.trace is not None:
        numeric_parts = [p for p in parts if p["kind"] in ("number", "vector", "matrix") and p.get("keys")]
        known = diagnose.variants(question.trace, [k for p in numeric_parts for k in p["keys"]])
        if known and rng.random() < 0.5:  # a classic slip (σ′ left out, Adam's bias correction, …): diagnosed
            env = rng.choice(known)[1]
        elif numeric_parts:
            chosen = rng.choice(numeric_parts[: max(1, len(numeric_parts) // 2)])  # an early part
            key = chosen["keys"][0]
            true = question.trace[key]
            wrong = -true if true and rng.random() < 0.5 else numeric.exact(numeric.to_float(true) + rng.choice((-1, 1)))
            env = question.trace.evaluate({key: numeric.exact(numeric.to_float(wrong))})
    cells: dict[str, str] = {}
    for part in parts:
        cols = part_columns(int(record["index"]), part)
        if rng.random() < 0.05:
            continue  # left blank
        places = int(part.get("places", 4))
        if part["kind"] in ("number", "vector", "matrix") and env is not None and part.get("keys"):
            values = [env[k] for k in part["keys"]]
        elif part["kind"] in ("number",):
            values = [part["answer"]]
        elif part["kind"] in ("vector", "matrix"):
            values = [v for row in part["answer"] for v in (row if isinstance(row, list) else [row])]
        elif part["kind"] == "shape":
            cells[cols[0].name] = f"{part['answer'][0]}x{part['answer'][1]}"
            continue
        else:
            cells[cols[0].name] = str(part["answer"])
            continue
        for col, v in zip(cols, values):
            if numeric.is_exact(v) or numeric.CTX.isfinite(v):  # a slip can make a later value undefined
                cells[col.name] = _typed(v, places, rng)
    return cells


def sample_answers(manifest: Mapping[str, Any], students: int, seed: int = 0) -> list[list[str]]:
    """The rows of an answer sheet (header first) for `students` made-up students."""
    rng = random.Random(seed)
    header = [*FIXED, *(c.name for c in answer_columns(manifest))]
    versions = manifest["versions"]
    rebuilt = {str(v["version"]): [Question.from_record(q) for q in v["questions"]] for v in versions}
    rows = [header]
    for n in range(1, students + 1):
        vid = str(versions[(n - 1) % len(versions)]["version"])
        cells = {"student_id": f"s{n:03d}", "version": vid}
        for q in rebuilt[vid]:
            cells.update(_student(q, rng, slip=rng.random() < 0.35))
        rows.append([cells.get(h, "") for h in header])
    if students:
        rows.append(list(rows[1]))  # the same student typed in twice
        rows.append(["s999", "no-such-version", *[""] * (len(header) - 2)])
    return rows
