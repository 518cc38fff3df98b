"""A CLI that feels native (issue 14.7): start-up without sympy/numpy, --version, --quiet,
`-` for stdin/stdout, `qgen init`, the LICENSE."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from click.testing import CliRunner

import qgen
from qgen.cli import MAX_VERSIONS, main
from tests.conftest import BANKS, ROOT


def test_importing_the_cli_does_not_import_sympy_or_numpy():
    code = "import sys, qgen.cli; print(sorted(m for m in ('sympy', 'numpy', 'mpmath', 'qgen.families') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_max_versions_agrees_with_the_bank():
    from qgen.bank import MAX_VERSIONS as BANK_MAX

    assert MAX_VERSIONS == BANK_MAX


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"qgen, version {qgen.__version__}"


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    folder = tmp_path_factory.mktemp("native")
    result = CliRunner().invoke(main, ["generate", str(BANKS / "quiz.yaml"), "--versions", "2", "--out",
                                       str(folder / "set"), "--no-pdf", "-q"])
    assert result.exit_code == 0 and result.output == "", result.output
    return folder / "set"


def test_sample_answers_to_stdout_creates_no_file(exam, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["sample-answers", str(exam), "--students", "3", "--out", "-"])
    assert result.exit_code == 0 and result.stdout.startswith("student_id,version,")
    assert not (tmp_path / "-").exists() and not (exam / "answers-sample.csv").exists()


def test_export_to_stdout_creates_no_file(exam, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["export", str(exam), "--format", "json", "--out", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith("{") and '"qgen-export"' in result.stdout
    assert list(tmp_path.iterdir()) == [] and not (exam / "export").exists()


def test_grade_reads_the_answers_from_stdin(exam, tmp_path):
    sheet = CliRunner().invoke(main, ["sample-answers", str(exam), "--students", "4", "--out", "-"]).stdout
    result = CliRunner().invoke(main, ["grade", str(exam), "-", "--out", str(tmp_path / "g")], input=sheet)
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "g" / "grades.csv").read_text(encoding="utf-8").splitlines()) == 1 + sheet.count("\n") - 1


def test_quiet_prints_nothing_on_every_reporting_command(exam, tmp_path):
    runner = CliRunner()
    sheet = tmp_path / "a.csv"
    for args in (["sample-answers", str(exam), "--out", str(sheet), "-q"],
                 ["grade", str(exam), str(sheet), "--out", str(tmp_path / "g"), "-q"],
                 ["export", str(exam), "--format", "json", "--out", str(tmp_path / "x.json"), "--quiet"],
                 ["check", str(BANKS / "quiz.yaml"), "--versions", "2", "-q"],
                 ["init", str(tmp_path / "course"), "-q"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0 and result.output == "", (args, result.output)
        assert "--quiet" in runner.invoke(main, [args[0], "--help"]).output


def test_init_copies_the_examples_and_refuses_a_non_empty_folder(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["init", str(tmp_path / "course")])
    assert result.exit_code == 0, result.output
    names = sorted(p.relative_to(tmp_path / "course").as_posix() for p in (tmp_path / "course").rglob("*"))
    assert {"midterm.yaml", "quiz.yaml", "seeds.yaml", "roster-example.csv", "pins/seed-000.yaml"} <= set(names)
    assert (tmp_path / "course" / "quiz.yaml").read_bytes() == (BANKS / "quiz.yaml").read_bytes()
    result = runner.invoke(main, ["init", str(tmp_path / "course")])
    assert result.exit_code == 1 and "not empty" in result.output
    (tmp_path / "empty").mkdir()
    assert runner.invoke(main, ["init", str(tmp_path / "empty")]).exit_code == 0
    # the copied banks work where they are: seeds.yaml's pins/ are beside it
    for bank in ("seeds.yaml", "course.yaml", "deep-learning.yaml"):  # course.yaml's families/ is beside it too
        check = runner.invoke(main, ["check", str(tmp_path / "course" / bank), "--versions", "1", "-q"])
        assert check.exit_code == 0, check.output


def test_license_is_mit_and_in_the_metadata():
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Copyright (c) 2026 the qgen authors" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]


def test_completion_script_is_offered():
    import os

    env = {**os.environ, "_QGEN_COMPLETE": "bash_source"}
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "qgen")], check=False, env=env, capture_output=True, text=True)
    if out.returncode != 0 and not out.stdout:
        pytest.skip("no qgen script in .venv")
    assert "_qgen_completion" in out.stdout
