"""Reading a `qgen generate` folder's manifest.json back: one reader for grade, export and sample-answers.

The manifest is checked before anything uses it, so a hand-edited or truncated one is a one-line
`ManifestError` naming the file and the path of the bad value (`versions[1].questions[0].parts[3].points`),
never a traceback from deep inside grading.

>>> check({"exam": {"id": "q"}, "versions": [{"version": "1", "points": 1, "questions": [{"index": 1,
...        "family": "chain-rule", "parts": [{"id": "value", "kind": "number", "points": 1, "answer": 0.5}]}]}]})
>>> check({"exam": {"id": "q"}, "versions": []})
Traceback (most recent call last):
qgen.manifests.ManifestError: manifest.json: versions: expected a non-empty list; ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qgen.errors import QgenError

KINDS = ("number", "vector", "matrix", "shape", "integer", "label", "expression", "text")
_FIX = "the manifest was edited or cut short: generate the exam set again (the same bank and versions give the " \
       "same exams)"


class ManifestError(QgenError):
    """manifest.json is missing, unreadable or not what `qgen generate` writes."""


def load_manifest(exam_dir: Path) -> dict[str, Any]:
    """manifest.json of a `qgen generate` folder, checked (a ManifestError names what is wrong)."""
    exam_dir = Path(exam_dir)
    path = exam_dir / "manifest.json"
    if not exam_dir.is_dir():
        what = "is a file" if exam_dir.exists() else "no such folder"
        raise ManifestError(f"{exam_dir}: {what}; give the folder `qgen generate` wrote (e.g. build/<exam id>)")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: no manifest; give the folder `qgen generate` wrote (it holds manifest.json)") \
            from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ManifestError(f"{path}: cannot be read ({e}); {_FIX}") from None
    check(record, str(path))
    if "families" in record:  # the course's own families, from the copies `generate` kept beside the manifest
        from qgen.families import course

        course.load_recorded(exam_dir, record["families"], str(path))
    return record


def _fail(where: str, at: str, expected: str) -> None:
    raise ManifestError(f"{where}: {at}: expected {expected}; {_FIX}")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _answer(kind: str, answer: Any) -> bool:
    if kind == "number":
        return _number(answer)
    if kind == "vector":
        return isinstance(answer, list) and bool(answer) and all(_number(v) for v in answer)
    if kind == "matrix":
        return (isinstance(answer, list) and bool(answer) and all(isinstance(r, list) and r for r in answer)
                and len({len(r) for r in answer}) == 1 and all(_number(v) for r in answer for v in r))
    if kind == "shape":
        return isinstance(answer, list) and len(answer) == 2 and all(isinstance(v, int) for v in answer)
    if kind == "integer":
        return isinstance(answer, int) and not isinstance(answer, bool)
    return isinstance(answer, (str, int, float)) and not isinstance(answer, bool)  # label, expression, text


def check(record: Any, where: str = "manifest.json") -> None:
    """Raise a ManifestError unless `record` has the shape `qgen generate` writes (what grading reads)."""
    if not isinstance(record, Mapping):
        _fail(where, "the file", "a JSON object")
    if not isinstance(record.get("exam"), Mapping) or not isinstance(record["exam"].get("id"), str):
        _fail(where, "exam.id", "the exam's id (text)")
    versions = record.get("versions")
    if not isinstance(versions, list) or not versions:
        _fail(where, "versions", "a non-empty list")
    for i, v in enumerate(versions):
        at = f"versions[{i}]"
        if not isinstance(v, Mapping) or not isinstance(v.get("version"), (str, int)) or isinstance(v["version"], bool):
            _fail(where, f"{at}.version", "the version's id")
        if not _number(v.get("points")):
            _fail(where, f"{at}.points", "a number")
        if not isinstance(v.get("questions"), list):
            _fail(where, f"{at}.questions", "a list")
        for j, q in enumerate(v["questions"]):
            qat = f"{at}.questions[{j}]"
            if not isinstance(q, Mapping) or not isinstance(q.get("index"), int) or not isinstance(q.get("family"), str):
                _fail(where, qat, "a question with an index and a family")
            if not isinstance(q.get("parts"), list):
                _fail(where, f"{qat}.parts", "a list")
            for k, p in enumerate(q["parts"]):
                pat = f"{qat}.parts[{k}]"
                if not isinstance(p, Mapping) or not isinstance(p.get("id"), str) or p.get("kind") not in KINDS:
                    _fail(where, pat, f"a part with an id and a kind ({', '.join(KINDS)})")
                if not _number(p.get("points")) or p["points"] < 0:
                    _fail(where, f"{pat}.points", "a number ≥ 0")
                if not _answer(p["kind"], p.get("answer")):
                    _fail(where, f"{pat}.answer", f"an answer of kind {p['kind']}")
                if "places" in p and (not isinstance(p["places"], int) or not 0 <= p["places"] <= 12):
                    _fail(where, f"{pat}.places", "a whole number of decimals, 0 to 12")
                for n, known in enumerate(p.get("slips", [])):
                    if not isinstance(known, Mapping) or not isinstance(known.get("name"), str) \
                            or not _answer(p["kind"], known.get("answer")):
                        _fail(where, f"{pat}.slips[{n}]", f"{{name, answer}} with an answer of kind {p['kind']}")
                keys = p.get("keys", [])
                if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
                    _fail(where, f"{pat}.keys", "a list of Trace keys")
