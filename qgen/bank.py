"""Banks and pin files: the only place qgen reads YAML. Errors name the file, line and key.

A bank says which questions an exam has and how they are drawn:

    exam:
      id: cs4780-midterm-2026      # versions' seeds derive from it: keep it stable
      title: Midterm, part 2
      course: CS 4780
      date: 12 March 2026
      instructions: Show your work.
      notation: bias-column        # or {profile: bias-row, lr: '\\eta'}
      precision: 4                 # decimal places asked for
      versions: 4
      constraints: {distinct_answers: off}   # fairness constraints are on unless switched off
      calculator: false            # no-calculator mode: short decimals, function values from a table
      paper: letter                # or a4 (the default): every PDF's paper size
    questions:
      - family: mlp-backprop
        domain: {hidden: [2], hidden_activation: [relu], x: {integers: [-2, 2]}}
        constraints: {no_saturation: off}
        shared: [hidden, loss]     # domain keys drawn once for all versions (default: the family's)
        parts: ['z1', 'a1', 'grad.*']     # default: every part
        points: {'grad.*': 2}
        space: {'grad.*': 3cm}     # the exam's answer box per part (cm, mm, in; default: the key's work)
        params: {...}              # optional: pin the numbers (canonical network form),
                                   # or the path of a pin file such as pins/seed-000.yaml
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from qgen import families
from qgen.errors import BankError, QgenError
from qgen.families import domain as dom
from qgen.families import rules as rl
from qgen.notation import Notation, resolve
from qgen.render.space import MAX_CM, parse_length
from qgen.yamlread import read_yaml

PAPERS = ("a4", "letter")


def _at(path: Path, m: Any, key: Any) -> str:
    line = getattr(m, "lines", {}).get(key)
    return f"{path}:{line}" if line else str(path)


@dataclass(frozen=True)
class QuestionSpec:
    """One question of a bank, validated."""

    index: int
    family: str
    title: str | None
    domain: dict[str, Any]
    params: dict[str, Any] | None
    parts: list[str] | None
    points: dict[str, float]
    notation: Notation
    places: int
    where: str  # file:line of the question, for later error messages
    rules: rl.Rules = rl.DEFAULT
    shared: tuple[str, ...] = ()  # domain keys drawn once per exam: every version has the same shape
    tolerance: dict[str, Any] = field(default_factory=dict)  # part pattern -> grading tolerance
    space: dict[str, float] = field(default_factory=dict)  # part pattern -> the exam's answer box, in cm
    rubric: dict[str, Any] = field(default_factory=dict)  # part pattern -> (criteria, "file:line")
    model_answer: dict[str, Any] = field(default_factory=dict)  # part pattern -> (LaTeX text, "file:line")


@dataclass(frozen=True)
class Bank:
    """An exam: its identity and texts, and its questions."""

    path: Path
    exam_id: str
    title: str
    course: str = ""
    date: str = ""
    instructions: str = ""
    notation: Notation = field(default_factory=lambda: resolve(None))
    places: int = 4
    versions: int = 1
    questions: tuple[QuestionSpec, ...] = ()
    rules: rl.Rules = rl.DEFAULT  # the exam-wide constraints and calculator mode
    ecf: float = 1.0  # share of the credit an answer right for the student's own earlier answers earns
    slip_credit: float = 0.0  # share of the credit a wrong answer with a diagnosed slip earns
    paper: str = "a4"  # the paper size of every PDF: a4 or letter
    families: tuple[Any, ...] = ()  # the course's own families it loaded (qgen.families.course.Source)


MAX_VERSIONS = 10_000  # also the limit of --versions
MAX_ID = 64  # characters: it names a folder and stands in every page's QR code
_EXAM_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_ID}}}")
_EXAM_KEYS = {"id", "title", "course", "date", "instructions", "notation", "precision", "versions", "constraints",
              "calculator", "ecf", "slip_credit", "paper"}
_QUESTION_KEYS = {"family", "title", "domain", "params", "parts", "points", "notation", "precision", "constraints",
                  "calculator", "shared", "tolerance", "space", "rubric", "model_answer"}


def _known(path: Path, m: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in m:
        if key not in allowed:
            raise BankError(f"{_at(path, m, key)}: {where}.{key}: unknown key; allowed: {', '.join(sorted(allowed))}")


def _text(path: Path, m: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
    v = m.get(key, default)
    if v is None:
        return default
    if not isinstance(v, (str, int, float)) or isinstance(v, bool):
        raise BankError(f"{_at(path, m, key)}: {where}.{key}: expected text, got {type(v).__name__}")
    return str(v)


def _places(path: Path, m: Mapping[str, Any], where: str, default: int) -> int:
    v = m.get("precision", default)
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 10:
        raise BankError(f"{_at(path, m, 'precision')}: {where}.precision: expected decimal places 0–10, got {v!r}")
    return v


def load_bank(path: str | Path) -> Bank:
    """Read and validate a bank file (see the module docstring for its form)."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, Mapping):
        raise BankError(f"{path}: a bank is a mapping with 'exam' and 'questions'")
    _known(path, data, {"exam", "questions", "families"}, "bank")
    sources = _course_families(path, data)
    exam = data.get("exam")
    if not isinstance(exam, Mapping):
        raise BankError(f"{_at(path, data, 'exam')}: exam: missing or not a mapping (it needs at least id and title)")
    _known(path, exam, _EXAM_KEYS, "exam")
    exam_id = _text(path, exam, "id", "exam").strip()
    if not exam_id:
        raise BankError(f"{path}: exam.id: missing; every version's numbers derive from it, e.g. id: ml-quiz-3")
    if not _EXAM_ID.fullmatch(exam_id) or exam_id in (".", ".."):
        raise BankError(f"{_at(path, exam, 'id')}: exam.id: {exam_id[:40]!r} is not a name: use letters, digits and "
                        f". _ - (at most {MAX_ID} characters, not . or ..), e.g. id: ml-quiz-3; it names the "
                        "output folder build/<id> and is printed in every QR code")
    try:
        notation = resolve(exam.get("notation"), where="exam.notation")
    except BankError as e:
        raise BankError(f"{_at(path, exam, 'notation')}: {e}") from None
    places = _places(path, exam, "exam", 4)
    versions = exam.get("versions", 1)
    if not isinstance(versions, int) or isinstance(versions, bool) or not 1 <= versions <= MAX_VERSIONS:
        raise BankError(f"{_at(path, exam, 'versions')}: exam.versions: expected a whole number from 1 to "
                        f"{MAX_VERSIONS:,} (as --versions), got {str(versions)[:20]}")
    known = dict.fromkeys(c for f in families.FAMILIES.values() for c in f.constraints)
    rules = _rules(path, exam, "exam", [*known, *rl.GENERIC, "hand_arithmetic"], rl.DEFAULT)
    ecf, slip = exam.get("ecf", 1.0), exam.get("slip_credit", 0.0)
    for key, value, what in (("ecf", ecf, "error carried forward (0 switches it off)"),
                             ("slip_credit", slip, "a wrong answer with a diagnosed slip")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise BankError(f"{_at(path, exam, key)}: exam.{key}: expected the share of credit for {what}, "
                            f"0 to 1, got {value!r}")
    paper = exam.get("paper", "a4")
    if paper not in PAPERS:
        raise BankError(f"{_at(path, exam, 'paper')}: exam.paper: expected one of {', '.join(PAPERS)}, got {paper!r}")
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise BankError(f"{_at(path, data, 'questions')}: questions: expected a non-empty list")
    questions = tuple(_question(path, raw_questions, i, notation, places, rules) for i in range(len(raw_questions)))
    return Bank(path, exam_id, _text(path, exam, "title", "exam", "Exam"), _text(path, exam, "course", "exam"),
                _text(path, exam, "date", "exam"), _text(path, exam, "instructions", "exam"), notation, places,
                versions, questions, rules, float(ecf), float(slip), paper, sources)


def _course_families(path: Path, data: Mapping[str, Any]) -> tuple[Any, ...]:
    """Load the course's own families a bank lists (`families: [my_families/, extra.py]`, relative to it)."""
    from qgen.families import course

    entries = data.get("families")
    if entries is None:
        return ()
    if not isinstance(entries, list) or not all(isinstance(e, str) and e.strip() for e in entries):
        raise BankError(f"{_at(path, data, 'families')}: families: expected a list of folders or .py files of "
                        "family modules, relative to the bank, e.g. [my_families/]")
    files: list[Path] = []
    for n, entry in enumerate(entries):
        line = getattr(entries, "lines", {}).get(n) or getattr(data, "lines", {}).get("families")
        where = f"{path}:{line}: families[{n}]" if line else f"{path}: families[{n}]"
        files += course.module_files(path.parent / entry, where)
    return tuple(course.load_files(files, families.INDEX))


def _rules(path: Path, m: Mapping[str, Any], where: str, allowed: list[str], inherited: rl.Rules) -> rl.Rules:
    """The constraints and calculator mode of an exam or question (a question inherits the exam's)."""
    calculator = m.get("calculator", inherited.calculator)
    if not isinstance(calculator, bool):
        raise BankError(f"{_at(path, m, 'calculator')}: {where}.calculator: expected true or false, got {calculator!r}")
    try:
        off = rl.switches(m.get("constraints"), allowed, f"{where}.constraints")
    except BankError as e:
        spec = m.get("constraints")
        key = next((k for k in (spec if isinstance(spec, Mapping) else ()) if f"constraints.{k}:" in str(e)), None)
        line = getattr(spec, "lines", {}).get(key) if key is not None else None
        raise BankError(f"{path}:{line}: {e}" if line else f"{_at(path, m, 'constraints')}: {e}") from None
    if "constraints" in m:  # a question's own switches replace the exam's for the constraints it names
        spec = m["constraints"] or {}
        off = (inherited.off - set(spec)) | off
    else:
        off = inherited.off
    return rl.Rules(off=frozenset(off), calculator=calculator)


def _question(path: Path, items: list[Any], i: int, notation: Notation, places: int,
              exam_rules: rl.Rules = rl.DEFAULT) -> QuestionSpec:
    where = f"questions[{i}]"
    q = items[i]
    if not isinstance(q, Mapping):
        raise BankError(f"{path}: {where}: expected a mapping with at least 'family'")
    first_line = min(q.lines.values()) if getattr(q, "lines", None) else None
    here = f"{path}:{first_line}" if first_line else str(path)
    _known(path, q, _QUESTION_KEYS, where)
    if "family" not in q:
        raise BankError(f"{here}: {where}.family: missing; one of {', '.join(sorted(families.FAMILIES))}")
    if not isinstance(q["family"], str):
        raise BankError(f"{_at(path, q, 'family')}: {where}.family: expected a family's name, got "
                        f"{type(q['family']).__name__}; one of {', '.join(sorted(families.FAMILIES))}")
    try:
        family = families.get(q["family"])
    except QgenError as e:
        raise type(e)(f"{_at(path, q, 'family')}: {e}") from None
    relaxed = set(getattr(family, "relaxed", ())) - set(q.get("constraints") or {})  # off unless the question says on
    exam_rules = rl.Rules(off=exam_rules.off | relaxed, calculator=exam_rules.calculator)
    rules = _rules(path, q, where, [*family.constraints, *rl.GENERIC, "hand_arithmetic"], exam_rules)
    defaults = family.default_domain
    if not rules.calculator:
        if not getattr(family, "calculator_free", False):
            line = _at(path, q, "calculator") if "calculator" in q else here
            why = getattr(family, "calculator_needed", "its numbers need one")
            raise BankError(f"{line}: {where}.calculator: {family.name} has no no-calculator mode ({why}); "
                            f"give this question calculator: true")
        defaults = {**defaults, **family.no_calculator_domain}
    try:
        merged = dom.merge(defaults, q.get("domain"), f"{where}.domain", getattr(family, "domain_limits", None))
        if hasattr(family, "check_domain"):  # what only the family knows: enough values for what it draws
            family.check_domain(merged, f"{where}.domain")
        if "notation" in q:
            notation = resolve(q["notation"], where=f"{where}.notation")
    except QgenError as e:
        key = next((k for k in ("domain", "notation") if k in q and f".{k}" in str(e)), "family")
        line = _at(path, q, key)
        if key == "domain" and isinstance(q.get("domain"), Mapping):  # the line of the domain key at fault
            sub = next((k for k in q["domain"] if f"domain.{k}" in str(e)), None)
            line = _at(path, q["domain"], sub) if sub is not None else line
        raise type(e)(f"{line}: {e}") from None
    parts = q.get("parts")
    if parts is not None and (not isinstance(parts, list) or not all(isinstance(p, str) for p in parts)):
        raise BankError(f"{_at(path, q, 'parts')}: {where}.parts: expected a list of part ids or patterns like 'grad.*'")
    tolerance = q.get("tolerance") or {}
    if not isinstance(tolerance, Mapping):
        raise BankError(f"{_at(path, q, 'tolerance')}: {where}.tolerance: expected a mapping of part id/pattern to "
                        "{abs|rel|decimals|sig_figs: number}")
    points = q.get("points") or {}
    if not isinstance(points, Mapping):
        raise BankError(f"{_at(path, q, 'points')}: {where}.points: expected a mapping of part id/pattern to points")
    space = _space(path, q, where)
    params = q.get("params")
    if isinstance(params, str):  # a pin file, relative to the bank
        params = load_params(path.parent / params)
        if "notation" in params and "notation" not in q:
            try:
                notation = resolve(params["notation"], where=f"{where}.params.notation")
            except BankError as e:
                raise BankError(f"{_at(path, q, 'params')}: {e}") from None
        if "precision" in params and "precision" not in q:
            places = _places(path, params, f"{where}.params", places)
        params = {k: v for k, v in params.items() if k not in ("notation", "precision")}
    elif params is not None and not isinstance(params, Mapping):
        raise BankError(f"{_at(path, q, 'params')}: {where}.params: expected a mapping of the family's parameters "
                        "or the path of a pin file")
    return QuestionSpec(i, family.name, _text(path, q, "title", where) or None, merged,
                        dict(params) if params is not None else None, parts, dict(points), notation,
                        _places(path, q, where, places), here, rules, _shared(path, q, where, family, merged),
                        _plain(tolerance), space, *_texts(path, q, where, points))


def _texts(path: Path, q: Mapping[str, Any], where: str,
           points: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A question's own rubrics and model answers: pattern -> (value, "file:line of its key").

    A rubric is "2 points for …; 2 points for …" (or a list of items); when the question's
    `points:` gives the same pattern, the rubric must add up to it (checked here, the rest at build).
    """
    from qgen.families.base import parse_rubric, rubric_total

    out: list[dict[str, Any]] = []
    for key in ("rubric", "model_answer"):
        spec = q.get(key) or {}
        if not isinstance(spec, Mapping):
            raise BankError(f"{_at(path, q, key)}: {where}.{key}: expected a mapping of part id/pattern to "
                            + ("text such as \"2 points for …; 2 points for …\"" if key == "rubric" else "LaTeX text"))
        table: dict[str, Any] = {}
        for pattern, value in spec.items():
            at, name = _at(path, spec, pattern), f"{where}.{key}.{pattern}"
            if key == "rubric":
                value = parse_rubric(value, f"{at}: {name}")
                want, total = points.get(pattern), rubric_total(value)
                if isinstance(want, (int, float)) and not isinstance(want, bool) and total != want:
                    raise BankError(f"{at}: {name}: the rubric adds up to {total:g} points but points.{pattern} "
                                    f"is {want:g}; make them equal")
            elif not isinstance(value, str) or not value.strip():
                raise BankError(f"{at}: {name}: expected the model answer as LaTeX text")
            table[str(pattern)] = (value, at)
        out.append(table)
    return out[0], out[1]


def _space(path: Path, q: Mapping[str, Any], where: str) -> dict[str, float]:
    """A question's `space:`: part pattern -> the height of the exam's answer box, in cm."""
    space = q.get("space") or {}
    if not isinstance(space, Mapping):
        raise BankError(f"{_at(path, q, 'space')}: {where}.space: expected a mapping of part id/pattern to a "
                        "height such as 6cm, 40mm or 1.5in")
    out = {}
    for pattern, value in space.items():
        try:
            out[str(pattern)] = parse_length(value)
        except ValueError:
            raise BankError(f"{_at(path, space, pattern)}: {where}.space.{pattern}: expected a height such as 6cm, "
                            f"40mm or 1.5in (more than 0, at most {MAX_CM:g}cm), got {value!r}") from None
    return out


def _shared(path: Path, q: Mapping[str, Any], where: str, family: Any, domain: Mapping[str, Any]) -> tuple[str, ...]:
    """The domain keys every version draws alike (the family's default, or the question's list)."""
    shared = q.get("shared", list(getattr(family, "shared", ())))
    if not isinstance(shared, list) or not all(isinstance(k, str) for k in shared):
        raise BankError(f"{_at(path, q, 'shared')}: {where}.shared: expected a list of domain keys, e.g. [points]")
    unknown = [k for k in shared if k not in domain]
    if unknown:
        raise BankError(f"{_at(path, q, 'shared')}: {where}.shared: {unknown} are not domain keys of {family.name}; "
                        f"it draws: {', '.join(domain)}")
    return tuple(shared)


def load_params(path: str | Path) -> dict[str, Any]:
    """Read a pin file: the family's parameters (e.g. `network:` in canonical form, `asked:`, `notation:`)."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, Mapping):
        raise BankError(f"{path}: a parameter file is a mapping, e.g. network: {{layers: ..., data: ...}}")
    return _plain(data)


def _plain(v: Any) -> Any:
    """Plain dicts and lists (drop the line bookkeeping)."""
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v
