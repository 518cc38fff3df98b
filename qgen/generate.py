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

import gc
import hashlib
import multiprocessing
import os
import pickle
import sys
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from qgen import __version__, families
from qgen.bank import Bank, QuestionSpec
from qgen.errors import FamilyError, QgenError
from qgen.families import checks
from qgen.families.base import Question, select_parts, with_texts, with_tolerance
from qgen.families.domain import draw, tallying, unmet
from qgen.families.rules import constraint_of, problem
from qgen.grade.columns import number_parts
from qgen.render.latex import escape_text
from qgen.tables import hand_arithmetic_problems

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
    last: dict[int, tuple[str, ...]] = field(default_factory=dict)  # the previous version's non-integer answers
    sampled: dict[int, Counter[str]] = field(default_factory=dict)
    redrawn: dict[int, Counter[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Version:
    """One version of an exam: its id and its solved questions (with the seeds that drew them)."""

    id: str
    questions: tuple[Question, ...]
    seeds: tuple[int | None, ...]


def shared_domain(exam_id: str, spec: QuestionSpec) -> dict[str, Any]:
    """The question's domain with each `shared` key fixed to one value drawn for the whole exam.

    The same for every version, so it is worked out once per exam and question (samplers only
    read their domain).
    """
    known = _SHARED.get((exam_id, id(spec)))
    if known is not None and known[0] is spec:
        return known[1]
    rng = np.random.default_rng(version_seed(exam_id, "\x00shared", spec.index))
    family = families.get(spec.family)
    sets = getattr(family, "shared_sets", {})  # keys whose shared value is a set drawn by the family
    fixed = {key: [draw(rng, spec.domain[key], f"domain.{key}")] for key in spec.shared if key not in sets}
    for key in (k for k in spec.shared if k in sets):
        fixed[key] = getattr(family, sets[key])(rng, {**spec.domain, **fixed})
    if len(_SHARED) >= 256:
        _SHARED.clear()
    domain = _SHARED[exam_id, id(spec)] = (spec, {**spec.domain, **fixed})
    return domain[1]


_SHARED: dict[tuple[str, int], tuple[QuestionSpec, dict[str, Any]]] = {}  # holds each spec: ids stay unique


def build_question(spec: QuestionSpec, seed: int | None, domain: dict[str, Any] | None = None) -> Question:
    """Sample (unless pinned) and build one question of a bank; errors name the bank question."""
    family = families.get(spec.family)
    try:
        params = (spec.params if spec.params is not None
                  else family.sample(np.random.default_rng(seed), domain or spec.domain, spec.rules))
        q = family.build(params, spec.notation, spec.places)
        parts = select_parts(q.parts, spec.parts, spec.points, f"questions[{spec.index}]")
        parts = with_tolerance(parts, spec.tolerance, f"questions[{spec.index}]")
        parts = with_texts(parts, spec.rubric, spec.model_answer, f"questions[{spec.index}]")
    except QgenError as e:
        raise type(e)(f"{spec.where}: questions[{spec.index}] ({spec.family}): {e}") from None
    title = escape_text(spec.title) if spec.title else q.title
    return replace(q, parts=parts, title=title)


def question_problems(spec: QuestionSpec, q: Question, taken: Iterable[str] = (), fp: str | None = None) -> list[str]:
    """The whole-question constraints a built question breaks (enabled ones only); `fp`: its fingerprint."""
    out: list[str] = []
    if spec.rules.on("distinct_answers"):
        out += checks.answer_clashes(q)
    if spec.rules.on("significant_answers"):
        out += checks.tiny_answers(q)
    if spec.rules.on("hand_arithmetic"):
        keys = [k for p in q.parts for k in p.keys]
        out += [problem("hand_arithmetic", p) for p in hand_arithmetic_problems(q.trace, keys)]
    if spec.rules.on("distinct_versions"):
        out += checks.repeated(fp or checks.fingerprint(families.get(spec.family), q.params), taken)
    return out


@dataclass
class Drawn:
    """One draw (one salt) of a question, checked on its own: everything but distinct_versions.

    `sampled` is the sampler's tally of this draw; `question` is kept only while it may still be
    accepted (no problems of its own); `error` is the QgenError building it raised.
    """

    seed: int | None
    sampled: Counter[str] = field(default_factory=Counter)
    fp: str = ""
    problems: tuple[str, ...] = ()
    question: Question | None = None
    error: QgenError | None = None


def draw_once(exam_id: str, spec: QuestionSpec, version: str, salt: int, domain: dict[str, Any]) -> Drawn:
    """Draw and build question `spec` of `version` from redraw `salt`, and check what needs no other version."""
    seed = version_seed(exam_id, version, spec.index, salt)
    tally: Counter[str] = Counter()
    try:
        with tallying(tally):
            q = build_question(spec, seed, domain)
        fp = checks.fingerprint(families.get(spec.family), q.params)
        problems = tuple(question_problems(spec, q, (), fp))  # nothing taken: distinct_versions cannot fire
    except QgenError as e:
        return Drawn(seed, tally, error=e)
    return Drawn(seed, tally, fp, problems, None if problems else q)


def draw_alone(exam_id: str, spec: QuestionSpec, version: str, seen: set[str] | None = None) -> list[Drawn]:
    """Salts 0, 1, … of a question until one meets its own constraints (or fails): no other version needed.

    A worker process draws these ahead; `draw_question` then only checks the accepted draw
    against the versions before it, and draws on from the next salt where it collides.
    `seen`: fingerprints this worker expects earlier versions to hold; a draw among them will
    most likely collide, so the drawing goes on to the next fair one (and adds it to `seen`).
    Either way `draw_question` decides exactly as without them: this only spares it redraws.
    """
    if spec.params is not None:  # pinned: built once per version, never redrawn
        try:
            return [Drawn(None, question=build_question(spec, None))]
        except QgenError as e:
            return [Drawn(None, error=e)]
    domain = shared_domain(exam_id, spec)
    out: list[Drawn] = []
    for salt in range(MAX_REDRAWS):
        d = draw_once(exam_id, spec, version, salt, domain)
        out.append(d)
        if d.error is not None or (not d.problems and (seen is None or d.fp not in seen)):
            break
    if seen is not None and out[-1].question is not None:
        seen.add(out[-1].fp)
    return out


def draw_question(bank: Bank, spec: QuestionSpec, version: str, draws: Draws | None = None,
                  drawn: Sequence[Drawn] = ()) -> tuple[Question, int | None]:
    """Question `spec` of `version`, redrawn (next salt) until it meets the whole-question constraints.

    `drawn`: the first salts' draws made ahead (`draw_alone`, in a worker); the same draws are
    made here where they are missing, so the result never depends on who drew them.
    """
    if spec.params is not None:  # pinned: exactly these numbers, in every version
        if drawn and drawn[0].error is not None:
            raise drawn[0].error
        return (drawn[0].question if drawn else build_question(spec, None)), None
    draws = draws if draws is not None else Draws()
    domain: dict[str, Any] | None = None
    taken = draws.taken.setdefault(spec.index, set())
    sampled = draws.sampled.setdefault(spec.index, Counter())
    redrawn = draws.redrawn.setdefault(spec.index, Counter())
    failures: Counter[str] = Counter()
    for salt in range(MAX_REDRAWS):
        if salt < len(drawn):
            d = drawn[salt]
        else:
            domain = domain if domain is not None else shared_domain(bank.exam_id, spec)
            d = draw_once(bank.exam_id, spec, version, salt, domain)
        sampled.update(d.sampled)
        if d.error is not None:
            raise d.error
        problems = list(d.problems)
        if spec.rules.on("distinct_versions"):  # last, as question_problems lists it
            problems += checks.repeated(d.fp, taken)
        answers = checks.shown_answers(d.question) if d.question is not None else ()
        if spec.rules.on("distinct_neighbours") and not problems:
            problems += checks.neighbour_overlap(answers, draws.last.get(spec.index))
        redrawn["draws"] += 1
        redrawn.update(set(constraint_of(p) for p in problems))
        if not problems:
            taken.add(d.fp)
            draws.last[spec.index] = answers
            assert d.question is not None
            return d.question, d.seed
        failures.update(problems)
    hint = unmet(spec.family, failures, MAX_REDRAWS, "more values to draw from")
    raise FamilyError(f"{spec.where}: questions[{spec.index}] ({spec.family}), version {version}: {hint}")


def build_version(bank: Bank, version: str, draws: Draws | None = None,
                  drawn: Sequence[Sequence[Drawn]] | None = None) -> Version:
    """Every question of `bank` for version `version` (pass the same `draws` across a set's versions).

    `drawn`: per question, the draws a worker made ahead (`draw_alone`).
    """
    built = [draw_question(bank, spec, version, draws, drawn[n] if drawn is not None else ())
             for n, spec in enumerate(bank.questions)]
    return Version(version, tuple(q for q, _ in built), tuple(seed for _, seed in built))


def build_versions(bank: Bank, ids: Iterable[str], draws: Draws | None = None, jobs: int | None = None,
                   progress: Callable[[Version], None] | None = None) -> list[Version]:
    """The versions `ids` in order, no two sharing a question's numbers.

    With `jobs` > 1 (None: every core) and a run big enough to pay for starting processes,
    worker processes draw each version's questions ahead, on their own; this process then
    walks the versions in order exactly as the sequential loop does, redrawing only where a
    question's numbers collide with an earlier version's. The result is the same either way.
    `progress` is called with each version as it is done, in order (for a progress bar).
    """
    ids = list(ids)
    draws = draws if draws is not None else Draws()
    done = progress or (lambda v: None)
    method = _start_method()
    workers = _workers(jobs, len(ids) * len(bank.questions), method)
    versions: list[Version] = []
    if workers <= 1:
        for v in ids:
            versions.append(build_version(bank, v, draws))
            done(versions[-1])
        return versions
    with _drawing_ahead(bank, ids, workers, method) as ahead, _collector_paused():
        for v, drawn in zip(ids, ahead):
            versions.append(build_version(bank, v, draws, drawn))
            done(versions[-1])
    return versions


# -- drawing ahead in worker processes ------------------------------------------------------
# Questions (a version's question each) a worker process must have to pay for starting it. Measured
# on 2 cores (the example midterm, 5 questions a version, and one-family banks): forked workers pay
# from about 30-40 questions in all; spawned ones (macOS, Windows), which import numpy, sympy and
# mpmath and start with cold caches, from about 800.
PER_WORKER = {"fork": 20, "spawn": 400}
CHUNK = 8  # versions a worker draws per task: little to wait for at the end, few messages
_BANK: Bank | None = None  # a worker's bank, sent once when it starts
_SEEN: dict[int, set[str]] = {}  # per question: the fingerprints a worker drew for its versions so far


def _start_method() -> str:
    """fork where it is safe (Linux, no other threads to copy in a locked state), else spawn."""
    return "fork" if sys.platform.startswith("linux") and threading.active_count() == 1 else "spawn"


def _workers(jobs: int | None, questions: int, method: str | None = None) -> int:
    """How many worker processes to draw `questions` with (1: draw them here, no processes)."""
    jobs = (os.cpu_count() or 1) if jobs is None else jobs
    return max(1, min(jobs, questions // PER_WORKER[method or _start_method()]))


def _start_worker(bank: Bank) -> None:
    global _BANK
    _BANK = bank
    if bank.families:  # a spawned worker imports the course's families anew (a forked one has them)
        from qgen.families import INDEX, course

        course.load_files([s.file for s in bank.families if not s.entry_point], INDEX)
    _SEEN.clear()


def _draw_versions(ids: list[str]) -> bytes:
    """In a worker: per version, per question, the draws `draw_alone` makes (pickled, see `_unpickled`).

    The fingerprints this worker drew for its earlier versions go along (`seen`): a question
    with few possible instances then comes with its redraws, instead of this process redrawing
    them one after the other (the other worker's versions it cannot know; those it still does).
    """
    assert _BANK is not None
    drawn = [[draw_alone(_BANK.exam_id, spec, v,
                         _SEEN.setdefault(spec.index, set()) if spec.rules.on("distinct_versions") else None)
              for spec in _BANK.questions] for v in ids]
    return pickle.dumps(drawn, protocol=pickle.HIGHEST_PROTOCOL)


def _unpickled(data: bytes) -> list[list[list[Drawn]]]:
    """What `_draw_versions` sent (unpickled here, not in the pool's thread: see `_collector_paused`)."""
    return pickle.loads(data)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The garbage collector off while this process receives the workers' questions.

    A solved question is thousands of small objects (Trace quantities, formulas, numbers), and
    unpickling them in bursts sets off collection after collection over everything received so
    far, which cost as much as the unpickling. They are not garbage; the collector runs again
    (once) when the exam is complete.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


@contextmanager
def _drawing_ahead(bank: Bank, ids: list[str], workers: int, method: str) -> Iterator[Iterator[list[list[Drawn]]]]:
    """Per version of `ids`, in order, what workers drew ahead; the pool goes away with the block.

    Versions go out in small chunks (at most CHUNK), so the first ones come back early and the
    cores stay busy to the end; leaving the block early (an error) cancels the chunks not
    started yet.
    """
    size = max(1, min(CHUNK, len(ids) // (4 * workers)))
    chunks = [ids[n:n + size] for n in range(0, len(ids), size)]
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                               initializer=_start_worker, initargs=(bank,))
    try:
        yield (drawn for chunk in pool.map(_draw_versions, chunks) for drawn in _unpickled(chunk))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
    from qgen.families import course

    used = {q.family for v in versions for q in v.questions}
    return {
        "qgen": __version__,
        "exam": {"id": bank.exam_id, "title": bank.title, "course": bank.course, "date": bank.date,
                 "bank": bank.path.name, "precision": bank.places, "ecf": bank.ecf,
                 "slip_credit": bank.slip_credit},
        **({"families": course.manifest_records([s for s in bank.families if s.name in used])}
           if any(s.name in used for s in bank.families) else {}),
        "versions": [
            {"version": v.id, "points": sum(q.points for q in v.questions),
             "files": {"exam": f"exam-{v.id}.pdf", "key": f"key-{v.id}.pdf"},
             "questions": [number_parts(dict(question_record(q, seed), index=i + 1, title=q.title, points=q.points))
                           for i, (q, seed) in enumerate(zip(v.questions, v.seeds))]}
            for v in versions
        ],
    }
