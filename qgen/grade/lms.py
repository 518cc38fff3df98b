"""Answer files from where courses collect answers, turned into qgen's own layout (pure: text in, text out).

`qgen grade` reads, besides answers-template.csv, without a `--map`:

- a **Moodle** quiz *Responses* report download (`Surname`, `First name`, …, `State`, `Started on`,
  `Completed`, `Time taken`, `Grade/10.00`, `Response 1`, `Response 2`, …). Response N is quiz slot N,
  i.e. exam question N; qgen's Moodle export makes a question with one box `numerical` (the
  response is the typed number) and any other `multianswer` (cloze), whose response Moodle
  summarises as `part 1: 0.5; part 2: 3` (qtype_multianswer `summarise_response`, the string
  `subqresponse` = `part {$a->i}: {$a->response}` joined by `; `): part k is the k-th box of the
  question in exam order, i.e. the k-th column of the question. The student id is `ID number`,
  else `Username`, else `Email address`; only attempts in state `Finished` are rows.
- a **Canvas** classic quiz *Student Analysis* report (`name, id, sis_id, [root_account,] section,
  section_id, [section_sis_id,] submitted, [attempt,] <question id>: <question text>, <points>, …,
  n correct, n incorrect, score`): each answer box of qgen's QTI export is an item whose text
  names its column (`column q3.c.2, version 2`), so `<id>: … column q3.c.2 …` is that column (the
  column after it holds the item's points). The student id is `sis_id`, else `id`.
- a **Google Forms** response sheet (`Timestamp`, then the questions' titles): a title that is, or
  starts with, a column of answers-template.csv (`q3.c.2`, `q3.c.2 (entry 2)`) is that column;
  `student_id`/`Student ID` and `version` are read when present.

The version is the file's `version` column, else the one in the item text (Canvas), else (blank)
the manifest's students list (`generate --roster`), else the only version there is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from qgen.grade.columns import FIXED, answer_columns
from qgen.roster import delimiter

COLUMN = re.compile(r"q\d+\.[a-z]+(?:\.\d+)*")
_RESPONSE = re.compile(r"Response (\d+)")
_CLOZE = re.compile(r"part (\d+): ")
_CANVAS_ITEM = re.compile(r"\d+: ")
_CANVAS_COLUMN = re.compile(r"column (q\d+\.[a-z]+(?:\.\d+)*)(?:, version ([^\s,)]+))?")
_NAMES = {"moodle": "a Moodle quiz responses report", "canvas": "a Canvas quiz student analysis report",
          "forms": "a Google Forms response sheet"}


def describe(kind: str) -> str:
    """What a detected format is called in the command's output."""
    return _NAMES.get(kind, "qgen's answers template")


def _records(text: str) -> tuple[list[list[str]], str]:
    sep = delimiter(text.lstrip("\ufeff"))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep))
    return [r for r in rows if any(c.strip() for c in r)], sep


def detect(header: Sequence[str]) -> str:
    """The format of an answer file from its header: qgen, moodle, canvas or forms."""
    cells = [h.strip() for h in header]
    if cells and cells[0] == "Timestamp":
        return "forms"
    if all(f in cells for f in FIXED):
        return "qgen"
    if any(_RESPONSE.fullmatch(h) for h in cells) and {"Surname", "First name", "State"} & set(cells):
        return "moodle"
    if {"name", "id", "section", "submitted"} <= set(cells) and any(_CANVAS_ITEM.match(h) for h in cells):
        return "canvas"
    return "qgen"


def to_qgen(text: str, manifest: Mapping[str, Any]) -> tuple[str, str]:
    """The answer file as qgen's own CSV text (same separator) and the format it was in ("qgen": unchanged)."""
    if not text.strip():
        return text, "qgen"
    first = next(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter(text.lstrip("\ufeff"))), [])
    kind = detect(first)
    if kind == "qgen":
        return text, kind
    records, sep = _records(text)
    header, rows = [h.strip() for h in records[0]], records[1:]
    columns = [c.name for c in answer_columns(manifest)]
    out = {"moodle": _moodle, "canvas": _canvas, "forms": _forms}[kind](header, rows, manifest, columns)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n")
    writer.writerow([*FIXED, *columns])
    for row in out:
        writer.writerow([" ".join(row.get(c, "").split()) for c in (*FIXED, *columns)])
    return buf.getvalue(), kind


def _cell(row: Sequence[str], header: Sequence[str], name: str) -> str:
    return row[header.index(name)].strip() if name in header and header.index(name) < len(row) else ""


def _question_columns(manifest: Mapping[str, Any]) -> dict[int, list[str]]:
    """Per exam question, the columns of the boxes qgen's LMS exports show, in order (the cloze parts)."""
    from qgen.export.model import cells_of

    out: dict[int, list[str]] = {}
    for q in manifest["versions"][0]["questions"]:
        out[int(q["index"])] = [c.column for p in q["parts"] for c in cells_of(int(q["index"]), p)]
    return out


def _moodle(header: list[str], rows: list[list[str]], manifest: Mapping[str, Any], columns: list[str]
            ) -> list[dict[str, str]]:
    boxes = _question_columns(manifest)
    ident = next((h for h in ("ID number", "Username", "Email address") if h in header), None)
    out = []
    for r in rows:
        if "State" in header and _cell(r, header, "State") not in ("Finished", ""):
            continue  # an attempt in progress, overdue or never submitted: nothing to grade
        if r and r[0].strip() == "Overall average":
            continue
        row = {"student_id": _cell(r, header, ident) if ident else
               " ".join(x for x in (_cell(r, header, "First name"), _cell(r, header, "Surname")) if x),
               "version": _cell(r, header, "version") or _cell(r, header, "Version")}
        for i, h in enumerate(header):
            m = _RESPONSE.fullmatch(h)
            if not m or i >= len(r) or int(m.group(1)) not in boxes:
                continue
            cols, response = boxes[int(m.group(1))], r[i].strip()
            if response == "-":
                continue
            if len(cols) == 1 and not _CLOZE.match(response):
                row[cols[0]] = response
                continue
            pieces = _CLOZE.split(response)  # ["", "1", "0.5; ", "2", "3"]
            for k in range(1, len(pieces) - 1, 2):
                n = int(pieces[k])
                value = pieces[k + 1]
                value = value[:-2] if value.endswith("; ") else value.rstrip(";")
                if 1 <= n <= len(cols):
                    row[cols[n - 1]] = value.strip()
        out.append(row)
    return out


def _canvas(header: list[str], rows: list[list[str]], manifest: Mapping[str, Any], columns: list[str]
            ) -> list[dict[str, str]]:
    found: dict[int, str] = {}
    version_of_items = ""
    for i, h in enumerate(header):
        if _CANVAS_ITEM.match(h):
            m = _CANVAS_COLUMN.search(h)
            if m:
                found[i] = m.group(1)
                version_of_items = version_of_items or (m.group(2) or "")
    ident = "sis_id" if "sis_id" in header else "id"
    out = []
    for r in rows:
        sid = _cell(r, header, ident) or _cell(r, header, "id")
        row = {"student_id": sid, "version": _cell(r, header, "version") or version_of_items}
        row.update({col: r[i].strip() for i, col in found.items() if i < len(r)})
        out.append(row)
    return out


def _forms(header: list[str], rows: list[list[str]], manifest: Mapping[str, Any], columns: list[str]
           ) -> list[dict[str, str]]:
    known = set(columns) | {c.whole for c in answer_columns(manifest) if c.entry}
    found: dict[int, str] = {}
    sid_at = ver_at = None
    for i, h in enumerate(header):
        low = h.lower().replace(" ", "_")
        if low in ("student_id", "student_number", "id") and sid_at is None:
            sid_at = i
        elif low == "version" and ver_at is None:
            ver_at = i
        else:
            m = COLUMN.match(h)
            if m and m.group(0) in known and (len(h) == m.end() or not h[m.end()].isalnum() and h[m.end()] != "."):
                found[i] = m.group(0)
    if sid_at is None and "Email Address" in header:
        sid_at = header.index("Email Address")
    out = []
    for r in rows:
        row = {"student_id": r[sid_at].strip() if sid_at is not None and sid_at < len(r) else "",
               "version": r[ver_at].strip() if ver_at is not None and ver_at < len(r) else ""}
        row.update({col: r[i].strip() for i, col in found.items() if i < len(r) and r[i].strip()})
        out.append(row)
    return out
