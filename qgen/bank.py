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
    questions:
      - family: mlp-backprop
        domain: {hidden: [2], hidden_activation: [relu], x: {integers: [-2, 2]}}
        constraints: {no_saturation: off}
        shared: [hidden, loss]     # domain keys drawn once for all versions (default: the family's)
        parts: ['z1', 'a1', 'grad.*']     # default: every part
        points: {'grad.*': 2}
        params: {...}              # optional: pin the numbers (canonical network form),
                                   # or the path of a pin file such as pins/seed-000.yaml
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from qgen import families
from qgen.errors import BankError, QgenError
from qgen.families import domain as dom
from qgen.families import rules as rl
from qgen.notation import Notation, resolve


class _Mapping(dict):
    """A YAML mapping that remembers the line of each key (1-based)."""

    lines: dict[Any, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    m = _Mapping(loader.construct_mapping(node, deep=True))
    m.lines = {loader.construct_object(k, deep=True): k.start_mark.line + 1 for k, _ in node.value}
    return m


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file safely; a syntax error names the file, line and column."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BankError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BankError(f"{path}: cannot be read ({e})") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise BankError(f"{where}: invalid YAML: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise BankError(f"{path}: invalid YAML: {e}") from None


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


_EXAM_KEYS = {"id", "title", "course", "date", "instructions", "notation", "precision", "versions", "constraints",
              "calculator", "ecf", "slip_credit"}
_QUESTION_KEYS = {"family", "title", "domain", "params", "parts", "points", "notation", "precision", "constraints",
                  "calculator", "shared", "tolerance"}


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
    _known(path, data, {"exam", "questions"}, "bank")
    exam = data.get("exam")
    if not isinstance(exam, Mapping):
        raise BankError(f"{_at(path, data, 'exam')}: exam: missing or not a mapping (it needs at least id and title)")
    _known(path, exam, _EXAM_KEYS, "exam")
    exam_id = _text(path, exam, "id", "exam").strip()
    if not exam_id:
        raise BankError(f"{path}: exam.id: missing; every version's numbers derive from it, e.g. id: ml-quiz-3")
    try:
        notation = resolve(exam.get("notation"), where="exam.notation")
    except BankError as e:
        raise BankError(f"{_at(path, exam, 'notation')}: {e}") from None
    places = _places(path, exam, "exam", 4)
    versions = exam.get("versions", 1)
    if not isinstance(versions, int) or isinstance(versions, bool) or versions < 1:
        raise BankError(f"{_at(path, exam, 'versions')}: exam.versions: expected a whole number ≥ 1, got {versions!r}")
    known = dict.fromkeys(c for f in families.FAMILIES.values() for c in f.constraints)
    rules = _rules(path, exam, "exam", [*known, *rl.GENERIC, "hand_arithmetic"], rl.DEFAULT)
    ecf, slip = exam.get("ecf", 1.0), exam.get("slip_credit", 0.0)
    for key, value, what in (("ecf", ecf, "error carried forward (0 switches it off)"),
                             ("slip_credit", slip, "a wrong answer with a diagnosed slip")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise BankError(f"{_at(path, exam, key)}: exam.{key}: expected the share of credit for {what}, "
                            f"0 to 1, got {value!r}")
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise BankError(f"{_at(path, data, 'questions')}: questions: expected a non-empty list")
    questions = tuple(_question(path, raw_questions, i, notation, places, rules) for i in range(len(raw_questions)))
    return Bank(path, exam_id, _text(path, exam, "title", "exam", "Exam"), _text(path, exam, "course", "exam"),
                _text(path, exam, "date", "exam"), _text(path, exam, "instructions", "exam"), notation, places,
                versions, questions, rules, float(ecf), float(slip))


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
                        _plain(tolerance))


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
