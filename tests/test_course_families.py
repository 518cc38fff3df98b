"""A course's own families: loaded from a bank's `families:` folder or an installed entry point, the
`qgen family new` scaffold, one-line errors naming the course's file and line, and the copy kept in
the output folder for grading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qgen.bank import load_bank
from qgen.cli import main
from qgen.errors import QgenError
from qgen.families import INDEX, course, get
from qgen.families.scaffold import files as scaffold_files
from qgen.generate import build_versions
from qgen.manifests import load_manifest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def scaffold(tmp_path, runner):
    result = runner.invoke(main, ["family", "new", "neuron-step", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path


def test_the_scaffold_is_a_runnable_family_with_a_passing_test(scaffold):
    assert sorted(str(p.relative_to(scaffold)) for p in scaffold.rglob("*") if p.is_file()) == [
        "families/neuron-step.tex.j2", "families/neuron_step.py", "neuron-step.yaml", "tests/test_neuron_step.py"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(scaffold / "tests")],
                         check=False, capture_output=True, text=True, cwd=scaffold, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout + run.stderr


def test_the_scaffold_never_overwrites(scaffold, runner):
    result = runner.invoke(main, ["family", "new", "neuron-step", "--dir", str(scaffold)])
    assert result.exit_code == 1 and "already exists" in result.output and "neuron_step.py" in result.output


@pytest.mark.parametrize("name", ["mlp-backprop", "Neuron", "two--hyphens", "9lives", "x" * 41])
def test_a_scaffold_needs_a_new_well_formed_name(name):
    with pytest.raises(QgenError):
        scaffold_files(name)


def test_a_course_family_goes_through_generate_grade_and_export(scaffold, runner):
    out = scaffold / "out"
    bank = scaffold / "neuron-step.yaml"
    assert runner.invoke(main, ["generate", str(bank), "--out", str(out), "--no-pdf", "-q"]).exit_code == 0
    record = json.loads((out / "manifest.json").read_text())
    [fam] = record["families"]
    assert fam["name"] == "neuron-step" and fam["file"] == "families/1-families/neuron_step.py"
    assert (out / fam["file"]).read_bytes() == (scaffold / "families/neuron_step.py").read_bytes()
    assert (out / "families/1-families/neuron-step.tex.j2").is_file()
    # the course folder moves on: grading uses the copy the exams were made with
    (scaffold / "families").rename(scaffold / "elsewhere")
    course._LOADED.clear()
    assert runner.invoke(main, ["sample-answers", str(out), "--students", "3", "-q"]).exit_code == 0
    result = runner.invoke(main, ["grade", str(out), str(out / "answers-sample.csv"), "--out", str(scaffold / "g"), "-q"])
    assert result.exit_code == 0, result.output
    rows = (scaffold / "g" / "grades.csv").read_text().splitlines()
    assert rows[1].split(",")[2] == "graded" and rows[1].split(",")[-4:-2] == ["10", "12"]  # all but the hand-graded 2
    for fmt in ("moodle", "qti"):
        assert runner.invoke(main, ["export", str(out), "--format", fmt, "-q"]).exit_code == 0
    # a copy changed after the exams were made is refused, not silently used
    with (out / fam["file"]).open("a") as f:
        f.write("# edited\n")
    result = runner.invoke(main, ["grade", str(out), str(out / "answers-sample.csv"), "--out", str(scaffold / "g2")])
    assert result.exit_code == 1 and "changed since the exams were generated" in result.output


def test_solve_and_list_take_the_families_folder(scaffold, runner):
    result = runner.invoke(main, ["solve", "neuron-step", "--families", str(scaffold / "families"), "--json"])
    record = json.loads(result.output)
    assert record["family"] == "neuron-step" and [p["id"] for p in record["parts"]][:3] == ["z", "a", "loss"]
    listed = runner.invoke(main, ["list", "--families", str(scaffold / "families")]).output
    assert any(line.startswith("neuron-step ") for line in listed.splitlines())


def _family(folder: Path, body: str, name: str = "broken.py") -> Path:
    """A course folder holding the scaffold's template and one module `name` with `body`."""
    fam = folder / "fams"
    fam.mkdir(exist_ok=True)
    (fam / "neuron-step.tex.j2").write_text(scaffold_files("neuron-step")["families/neuron-step.tex.j2"])
    (fam / name).write_text(textwrap.dedent(body))
    (folder / "bank.yaml").write_text("families: [fams/]\nexam: {id: b, title: B}\n"
                                      "questions:\n  - family: neuron-step\n")
    return folder / "bank.yaml"


def _scaffold_module(**changes: str) -> str:
    text = scaffold_files("neuron-step")["families/neuron_step.py"]
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("body, expect", [
    ("x = 1\ndef f(:\n", "broken.py:2: SyntaxError"),
    ("import math\n\nvalue = math.nope\n", "broken.py:3: AttributeError"),
    ("x = 1\n", "broken.py:1: defines no FAMILY"),
    ("class F:\n    name = 'neuron-step'\n\nFAMILY = F()\n", "broken.py:4: the family lacks summary"),
])
def test_a_broken_family_is_one_line_naming_its_file_and_line(tmp_path, body, expect):
    with pytest.raises(QgenError) as e:
        load_bank(_family(tmp_path, body))
    assert expect in str(e.value) and "\n" not in str(e.value)


def test_a_bug_in_build_names_the_line_in_the_course_code(tmp_path, runner):
    text = _scaffold_module(**{'t.add("a", literal("a"), Fn("sigmoid", (Ref("z"),)))':
                               't.add("a", literal("a"), Fn("sigmoid", (Ref("z"),)))\n        1 / 0'})
    bank = _family(tmp_path, text, "neuron_step.py")
    line = next(n for n, s in enumerate(text.splitlines(), 1) if s.strip() == "1 / 0")
    result = runner.invoke(main, ["check", str(bank)])
    assert result.exit_code == 1
    assert f"neuron_step.py:{line}: neuron-step.build: ZeroDivisionError" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_names_may_not_clash(tmp_path):
    clash = _scaffold_module(**{'name = "neuron-step"': 'name = "mlp-backprop"'})
    with pytest.raises(QgenError, match="one of qgen's own families"):
        load_bank(_family(tmp_path, clash, "neuron_step.py"))
    (tmp_path / "fams" / "neuron_step.py").write_text(_scaffold_module())
    (tmp_path / "fams" / "again.py").write_text(_scaffold_module())
    with pytest.raises(QgenError, match="also defined in"):
        load_bank(tmp_path / "bank.yaml")


def test_a_missing_template_or_folder_is_named(tmp_path):
    bank = _family(tmp_path, _scaffold_module(**{'template = "neuron-step.tex.j2"': 'template = "nope.tex.j2"'}),
                   "neuron_step.py")
    with pytest.raises(QgenError, match=r"neuron_step.py:\d+: template 'nope.tex.j2': no such file"):
        load_bank(bank)
    bank.write_text("families: [missing/]\nexam: {id: b, title: B}\nquestions:\n  - family: x\n")
    with pytest.raises(QgenError, match=r"bank.yaml:1: families\[0\]: .*missing: no such folder"):
        load_bank(bank)


def test_an_installed_family_comes_from_its_entry_point(tmp_path):
    site = tmp_path / "site"
    pkg = site / "coursefams"
    pkg.mkdir(parents=True)
    module = _scaffold_module(**{'name = "neuron-step"': 'name = "installed-neuron"',
                                 'template = "neuron-step.tex.j2"': 'template = "installed-neuron.tex.j2"'})
    (pkg / "__init__.py").write_text("")
    (pkg / "neuron.py").write_text(module)
    (pkg / "installed-neuron.tex.j2").write_text(scaffold_files("neuron-step")["families/neuron-step.tex.j2"])
    info = site / "coursefams-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: coursefams\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[qgen.families]\ninstalled-neuron = coursefams.neuron:FAMILY\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    run = subprocess.run([sys.executable, "-m", "qgen", "solve", "installed-neuron", "--json"], check=False,
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["family"] == "installed-neuron"
    listed = subprocess.run([sys.executable, "-m", "qgen", "list"], check=False, capture_output=True, text=True,
                            env=env).stdout
    assert "installed-neuron" in listed


def test_a_spawned_worker_loads_the_course_families(scaffold):
    bank = load_bank(scaffold / "neuron-step.yaml")
    course._LOADED.clear()
    from qgen import generate

    generate._start_worker(bank)  # what a spawned worker runs first
    assert get("neuron-step").name == "neuron-step"
    assert len(build_versions(bank, ["1", "2"], jobs=1)) == 2


def test_the_shipped_course_bank_uses_its_families_folder():
    bank = load_bank(ROOT / "banks" / "course.yaml")
    assert {s.name for s in bank.families} <= {q.family for q in bank.questions}
    assert all(s.name not in INDEX for s in bank.families)


def test_manifest_records_are_checked(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({
        "exam": {"id": "x"}, "families": [{"name": "n", "file": "../../etc/passwd", "sha256": "0"}],
        "versions": [{"version": "1", "points": 0, "questions": []}]}))
    with pytest.raises(QgenError, match="expected a path inside the output folder"):
        load_manifest(tmp_path)


def test_the_shipped_example_is_the_scaffold_as_written():
    made = scaffold_files("one-neuron")
    for rel in ("families/one_neuron.py", "families/one-neuron.tex.j2"):
        shipped = ROOT / "banks" / "course-families" / Path(rel).name
        assert shipped.read_text() == made[rel], f"regenerate {shipped} with `qgen family new one-neuron`"
