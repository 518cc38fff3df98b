"""From a bank to solved versions and the manifest: pure (no files, no printing).

A version's numbers come from a seed derived from the exam id, the version id and the
question's place in the bank, so regenerating one version gives the same paper.

>>> version_seed("quiz", "1", 0) == version_seed("quiz", "1", 0) != version_seed("quiz", "2", 0)
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qgen import __version__, families
from qgen.bank import Bank, QuestionSpec
from qgen.errors import QgenError
from qgen.families.base import Question, select_parts
from qgen.render.latex import escape_text


def version_seed(exam_id: str, version: str, index: int) -> int:
    """A stable 63-bit seed for question `index` of version `version` of exam `exam_id`."""
    digest = hashlib.sha256(f"qgen\x00{exam_id}\x00{version}\x00{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass(frozen=True)
class Version:
    """One version of an exam: its id and its solved questions (with the seeds that drew them)."""

    id: str
    questions: tuple[Question, ...]
    seeds: tuple[int | None, ...]


def build_question(spec: QuestionSpec, seed: int | None) -> Question:
    """Sample (unless pinned) and build one question of a bank; errors name the bank question."""
    family = families.get(spec.family)
    try:
        params = spec.params if spec.params is not None else family.sample(np.random.default_rng(seed), spec.domain)
        q = family.build(params, spec.notation, spec.places)
        parts = select_parts(q.parts, spec.parts, spec.points, f"questions[{spec.index}]")
    except QgenError as e:
        raise type(e)(f"{spec.where}: questions[{spec.index}] ({spec.family}): {e}") from None
    title = escape_text(spec.title) if spec.title else q.title
    return replace(q, parts=parts, title=title)


def build_version(bank: Bank, version: str) -> Version:
    """Every question of `bank` for version `version`."""
    seeds = tuple(None if spec.params is not None else version_seed(bank.exam_id, version, spec.index)
                  for spec in bank.questions)
    return Version(version, tuple(build_question(s, seed) for s, seed in zip(bank.questions, seeds)), seeds)


def question_record(q: Question, seed: int | None) -> dict[str, Any]:
    """A solved question as data: the `qgen solve --json` contract, also used in the manifest."""
    out: dict[str, Any] = {"family": q.family, "seed": seed}
    out.update(q.params)
    out["notation"] = q.notation.name
    if q.solution is not None:
        out["solution"] = q.solution
    out["parts"] = [p.manifest() for p in q.parts]
    return out


def manifest(bank: Bank, versions: list[Version]) -> dict[str, Any]:
    """Everything needed to grade later without re-running the generator."""
    return {
        "qgen": __version__,
        "exam": {"id": bank.exam_id, "title": bank.title, "course": bank.course, "date": bank.date,
                 "bank": bank.path.name, "precision": bank.places},
        "versions": [
            {"version": v.id, "points": sum(q.points for q in v.questions),
             "files": {"exam": f"exam-{v.id}.pdf", "key": f"key-{v.id}.pdf"},
             "questions": [dict(question_record(q, seed), index=i + 1, title=q.title, points=q.points)
                           for i, (q, seed) in enumerate(zip(v.questions, v.seeds))]}
            for v in versions
        ],
    }
