"""From a bank to solved versions and the manifest: pure (no files, no printing).

A version's numbers come from a seed derived from the exam id, the version id and the
question's place in the bank, so regenerating one version gives the same paper. A drawn
question that breaks a constraint only the whole question shows (two parts with the same
answer, the same numbers as an earlier version) is drawn again from the next seed of the
same version ("salt" 1, 2, …); versions are built in order, so the set is reproducible too.

>>> version_seed("quiz", "1", 0) == version_seed("quiz", "1", 0) != version_seed("quiz", "2", 0)
True
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

import numpy as np

from qgen import __version__, families
from qgen.bank import Bank, QuestionSpec
from qgen.errors import FamilyError, QgenError
from qgen.families import checks
from qgen.families.base import Question, select_parts, with_tolerance
from qgen.families.domain import draw, tallying, unmet
from qgen.families.rules import constraint_of, problem
from qgen.tables import hand_arithmetic_problems
from qgen.render.latex import escape_text

MAX_REDRAWS = 100  # new seeds a question may take to meet the whole-question constraints


def version_seed(exam_id: str, version: str, index: int, salt: int = 0) -> int:
    """A stable 63-bit seed for question `index` of version `version` of exam `exam_id` (redraw `salt`)."""
    extra = f"\x00{salt}" if salt else ""
    digest = hashlib.sha256(f"qgen\x00{exam_id}\x00{version}\x00{index}{extra}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass
class Draws:
    """Per question index: the numbers versions built so far used, and why draws were rejected.

    `sampled` counts the family sampler's draws ("draws") and, per constraint, the draws it
    rejected; `redrawn` counts whole-question redraws ("draws" and per constraint).
    """

    taken: dict[int, set[str]] = field(default_factory=dict)
    sampled: dict[int, Counter[str]] = field(default_factory=dict)
    redrawn: dict[int, Counter[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Version:
    """One version of an exam: its id and its solved questions (with the seeds that drew them)."""

    id: str
    questions: tuple[Question, ...]
    seeds: tuple[int | None, ...]


def shared_domain(exam_id: str, spec: QuestionSpec) -> dict[str, Any]:
    """The question's domain with each `shared` key fixed to one value drawn for the whole exam."""
    rng = np.random.default_rng(version_seed(exam_id, "\x00shared", spec.index))
    fixed = {key: [draw(rng, spec.domain[key], f"domain.{key}")] for key in spec.shared}
    return {**spec.domain, **fixed}


def build_question(spec: QuestionSpec, seed: int | None, domain: dict[str, Any] | None = None) -> Question:
    """Sample (unless pinned) and build one question of a bank; errors name the bank question."""
    family = families.get(spec.family)
    try:
        params = (spec.params if spec.params is not None
                  else family.sample(np.random.default_rng(seed), domain or spec.domain, spec.rules))
        q = family.build(params, spec.notation, spec.places)
        parts = select_parts(q.parts, spec.parts, spec.points, f"questions[{spec.index}]")
        parts = with_tolerance(parts, spec.tolerance, f"questions[{spec.index}]")
    except QgenError as e:
        raise type(e)(f"{spec.where}: questions[{spec.index}] ({spec.family}): {e}") from None
    title = escape_text(spec.title) if spec.title else q.title
    return replace(q, parts=parts, title=title)


def question_problems(spec: QuestionSpec, q: Question, taken: Iterable[str] = (), fp: str | None = None) -> list[str]:
    """The whole-question constraints a built question breaks (enabled ones only); `fp`: its fingerprint."""
    out: list[str] = []
    if spec.rules.on("distinct_answers"):
        out += checks.answer_clashes(q)
    if spec.rules.on("hand_arithmetic"):
        keys = [k for p in q.parts for k in p.keys]
        out += [problem("hand_arithmetic", p) for p in hand_arithmetic_problems(q.trace, keys)]
    if spec.rules.on("distinct_versions"):
        out += checks.repeated(fp or checks.fingerprint(families.get(spec.family), q.params), taken)
    return out


def draw_question(bank: Bank, spec: QuestionSpec, version: str, draws: Draws | None = None) -> tuple[Question, int | None]:
    """Question `spec` of `version`, redrawn (next salt) until it meets the whole-question constraints."""
    if spec.params is not None:  # pinned: exactly these numbers, in every version
        return build_question(spec, None), None
    draws = draws if draws is not None else Draws()
    domain = shared_domain(bank.exam_id, spec)
    taken = draws.taken.setdefault(spec.index, set())
    redrawn = draws.redrawn.setdefault(spec.index, Counter())
    failures: Counter[str] = Counter()
    for salt in range(MAX_REDRAWS):
        seed = version_seed(bank.exam_id, version, spec.index, salt)
        with tallying(draws.sampled.setdefault(spec.index, Counter())):
            q = build_question(spec, seed, domain)
        fp = checks.fingerprint(families.get(spec.family), q.params)
        problems = question_problems(spec, q, taken, fp)
        redrawn["draws"] += 1
        redrawn.update(set(constraint_of(p) for p in problems))
        if not problems:
            taken.add(fp)
            return q, seed
        failures.update(problems)
    hint = unmet(spec.family, failures, MAX_REDRAWS, "more values to draw from")
    raise FamilyError(f"{spec.where}: questions[{spec.index}] ({spec.family}), version {version}: {hint}")


def build_version(bank: Bank, version: str, draws: Draws | None = None) -> Version:
    """Every question of `bank` for version `version` (pass the same `draws` across a set's versions)."""
    built = [draw_question(bank, spec, version, draws) for spec in bank.questions]
    return Version(version, tuple(q for q, _ in built), tuple(seed for _, seed in built))


def build_versions(bank: Bank, ids: Iterable[str], draws: Draws | None = None) -> list[Version]:
    """The versions `ids` in order, no two sharing a question's numbers."""
    draws = draws if draws is not None else Draws()
    return [build_version(bank, v, draws) for v in ids]


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
                 "bank": bank.path.name, "precision": bank.places, "ecf": bank.ecf,
                 "slip_credit": bank.slip_credit},
        "versions": [
            {"version": v.id, "points": sum(q.points for q in v.questions),
             "files": {"exam": f"exam-{v.id}.pdf", "key": f"key-{v.id}.pdf"},
             "questions": [dict(question_record(q, seed), index=i + 1, title=q.title, points=q.points)
                           for i, (q, seed) in enumerate(zip(v.questions, v.seeds))]}
            for v in versions
        ],
    }
