"""`qgen grade` on disk: read the manifest, the answers (and a roster); write grades.csv, gradebook.csv,
report.html, feedback/<student>.html (and absent.csv) atomically.

Only the manifest of the exam folder is read (the generator never runs again). Each output
file is written to a temporary file beside it and renamed into place, so a crash never leaves
a half-written grades.csv; a TA's scores for manual parts in an existing grades.csv are kept.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from qgen import roster
from qgen.errors import SubmissionError
from qgen.grade.feedback import feedback_pages
from qgen.grade.report import report_html
from qgen.grade.sheet import (
    Graded,
    grade_sheet,
    grades_table,
    known_columns,
    read_sheet,
    to_csv,
)
from qgen.roster import read_text


@dataclass(frozen=True)
class GradeRun:
    """What `grade_files` did: the graded rows and what the answer file's header lacked or had extra."""

    graded: list[Graded]
    missing: list[str]
    extra: list[str]
    files: list[Path]
    absent: list[tuple[str, str]] = ()  # roster students with no graded row: (id, name)


def load_roster(path: Path) -> list[tuple[str, str]]:
    """A roster's (id, name) pairs (see qgen.roster)."""
    return [(s.id, s.name) for s in roster.load_roster(path)]


def load_manifest(exam_dir: Path) -> dict[str, Any]:
    """manifest.json of a `qgen generate` folder."""
    path = Path(exam_dir) / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SubmissionError(f"{path}: no manifest; give the folder `qgen generate` wrote") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SubmissionError(f"{path}: cannot be read ({e})") from None


def load_mapping(path: Path | None) -> dict[str, str]:
    """A --map file: {their header: our column} (YAML)."""
    if path is None:
        return {}
    from qgen.bank import read_yaml

    data = read_yaml(path)
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise SubmissionError(f"{path}: expected a mapping of LMS header: qgen column, e.g. 'Student ID': student_id")
    return {k.strip(): v.strip() for k, v in data.items()}


def _manual_scores(path: Path, columns: set[str]) -> dict[tuple[str, str], str]:
    """TA scores already typed into a previous grades.csv (manual parts only)."""
    if not path.exists():
        return {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return {(r["student_id"], c): r[c] for r in rows for c in columns if r.get(c, "").strip()}


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_folder(path: Path, pages: dict[str, str]) -> None:
    """Replace the folder `path` by one holding `pages` (name -> text): built beside it, then renamed in."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    old = path.parent / f".{tmp.name.lstrip('.')}.old"
    try:
        for name, text in pages.items():
            with open(tmp / name, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        tmp.chmod(0o755)
        if path.exists() or path.is_symlink():
            os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            if old.exists() or old.is_symlink():
                os.replace(old, path)
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)


def grade_files(exam_dir: Path, answers: Path, out: Path, *, mapping: Path | None = None,
                ecf_credit: Fraction | None = None, roster: Path | None = None,
                progress: Callable[[int], None] | None = None) -> GradeRun:
    """Grade `answers` against `exam_dir`'s manifest into `out`; ECF credit: as given, else the bank's (exam.ecf)."""
    manifest = load_manifest(exam_dir)
    if ecf_credit is None:
        ecf_credit = Fraction(manifest["exam"].get("ecf", 1)).limit_denominator(100)
    sheet = read_sheet(read_text(answers), known_columns(manifest), load_mapping(mapping), where=str(answers))
    if progress is not None:
        progress(-len(sheet.rows))  # how many rows, then 1 per row graded
    graded = grade_sheet(manifest, sheet, ecf_credit, on_row=None if progress is None else lambda: progress(1))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manual_cols = {f"q{q['index']}.{p['id']}" for v in manifest["versions"] for q in v["questions"]
                   for p in q["parts"] if p["kind"] == "text"}
    table = grades_table(manifest, graded, _manual_scores(out / "grades.csv", manual_cols))
    book = [["student_id", "total"]] + [[r[0], r[-3]] for r in table[1:] if r[2] == "graded"]
    report, pages = report_html(manifest, graded, table), feedback_pages(manifest, graded, table)
    files = [out / "grades.csv", out / "gradebook.csv", out / "report.html", out / "feedback"]
    _write(files[0], to_csv(table))
    _write(files[1], to_csv(book))
    _write(files[2], report)
    _write_folder(files[3], pages)
    absent: list[tuple[str, str]] = []
    if roster is not None:
        present = {g.student_id for g in graded if g.status == "graded"}
        absent = [(sid, name) for sid, name in load_roster(roster) if sid not in present]
        files.append(out / "absent.csv")
        _write(files[-1], to_csv([["student_id", "name"], *[list(a) for a in absent]]))
    return GradeRun(graded, sheet.missing, sheet.extra, files, absent)
