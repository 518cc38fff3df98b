"""A hand-edited or truncated manifest.json is a one-line error for grade and export, never a traceback."""

from __future__ import annotations

import json
import shutil

import pytest

from qgen.bank import load_bank
from qgen.cli import main
from qgen.manifests import ManifestError, load_manifest
from qgen.publish import write_exam_set
from tests.conftest import BANKS


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "out"
    write_exam_set(load_bank(BANKS / "quiz.yaml"), ["1"], out, make_pdf=False)
    return out


def _edited(exam, tmp_path, edit) -> str:
    folder = tmp_path / "edited"
    shutil.copytree(exam, folder)
    record = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    edit(record)
    (folder / "manifest.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


def _set(path, value):
    def edit(record):
        *head, last = path
        target = record
        for k in head:
            target = target[k]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return edit


@pytest.mark.parametrize("path,value,message", [
    (["exam"], KeyError, "exam.id"),
    (["versions"], [], "versions: expected a non-empty list"),
    (["versions", 0, "questions"], "x", "versions[0].questions: expected a list"),
    (["versions", 0, "questions", 0, "parts", 3, "points"], "two", "versions[0].questions[0].parts[3].points"),
    (["versions", 0, "questions", 0, "parts", 3, "answer"], KeyError, "parts[3].answer: expected an answer"),
    (["versions", 0, "questions", 0, "parts", 3, "kind"], "drawing", "parts[3]: expected a part with an id and a kind"),
    (["versions", 0, "questions", 0, "parts", 3, "answer"], [1, "x"], "parts[3].answer"),
])
@pytest.mark.parametrize("command", ["grade", "export"])
def test_an_edited_manifest_is_one_line(exam, tmp_path, runner, path, value, message, command):
    folder = _edited(exam, tmp_path, _set(path, value))
    answers = tmp_path / "a.csv"
    answers.write_text("student_id,version\ns1,1\n", encoding="utf-8")
    args = ["grade", str(folder), str(answers)] if command == "grade" else ["export", str(folder), "--format", "json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert message in result.output and "manifest.json" in result.output and "Traceback" not in result.output


def test_a_truncated_manifest_is_one_line(exam, tmp_path, runner):
    folder = tmp_path / "cut"
    shutil.copytree(exam, folder)
    text = (folder / "manifest.json").read_text(encoding="utf-8")
    (folder / "manifest.json").write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ManifestError, match="cannot be read"):
        load_manifest(folder)
    result = runner.invoke(main, ["export", str(folder), "--format", "moodle"])
    assert result.exit_code == 1 and result.output.count("\n") == 1


def test_a_generated_manifest_passes(exam):
    assert load_manifest(exam)["exam"]["id"]
