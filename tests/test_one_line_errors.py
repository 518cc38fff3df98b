"""Every failure a user can cause is one line (no traceback), exit code 1, and leaves nothing half-written.

Read-only folders and a full disk are real here: small tmpfs mounts (as root; skipped where mounting is
not allowed), since root ignores a folder's permission bits.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BANKS, ROOT

QGEN = [sys.executable, "-m", "qgen"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*QGEN, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def one_line(got: subprocess.CompletedProcess) -> str:
    assert got.returncode == 1, (got.returncode, got.stdout, got.stderr)
    assert "Traceback" not in got.stderr and got.stderr.count("\n") == 1, got.stderr
    assert got.stderr.startswith("Error: ")
    return got.stderr


def _mount(path: Path, options: str) -> Path:
    path.mkdir()
    got = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if got.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({got.stderr.decode().strip()})")
    return path


@pytest.fixture
def mounts(tmp_path):
    made: list[Path] = []

    def mount(name: str, options: str) -> Path:
        made.append(_mount(tmp_path / name, options))
        return made[-1]

    yield mount
    for path in made:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture(scope="module")
def exam(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exam") / "out"
    subprocess.run([*QGEN, "generate", str(BANKS / "quiz.yaml"), "--versions", "2", "--no-pdf", "--out", str(out), "-q"],
                   cwd=ROOT, check=True)
    subprocess.run([*QGEN, "sample-answers", str(out)], cwd=ROOT, check=True, capture_output=True)
    return out


@pytest.mark.parametrize("command", ["generate", "grade", "sample-answers", "export"])
@pytest.mark.parametrize("where", ["read-only", "full"])
def test_a_folder_that_cannot_be_written_is_one_line(exam, mounts, command, where):
    target = mounts("ro", "ro,size=1m") if where == "read-only" else mounts("full", "size=12k")
    if where == "full":
        (target / "filler").write_bytes(b"x" * 8192)  # what is left is less than any output needs
    args = {"generate": ["generate", str(BANKS / "midterm.yaml"), "--versions", "3", "--no-pdf", "--out",
                         str(target / "set"), "-q"],
            "grade": ["grade", str(exam), str(exam / "answers-sample.csv"), "--out", str(target / "grades"), "-q"],
            "sample-answers": ["sample-answers", str(exam), "--students", "300", "--out", str(target / "a.csv")],
            "export": ["export", str(exam), "--format", "moodle", "--out", str(target / "e.xml")]}[command]
    message = one_line(run(*args))
    assert str(target) in message
    left = sorted(p.name for p in target.iterdir())
    assert left in ([], ["filler"]), left  # nothing half-written, no temporary litter


def test_a_cell_over_the_csv_field_limit_is_a_malformed_row(exam, tmp_path):
    answers = tmp_path / "big.csv"
    answers.write_text("student_id,version,q1.z1.1\ns1,1," + "9" * 140_000 + "\ns2,1,3\n", encoding="utf-8")
    got = run("grade", str(exam), str(answers), "--out", str(tmp_path / "g"))
    assert got.returncode == 0 and "2 rows: 1 malformed, 1 graded" in got.stdout


@pytest.mark.parametrize("bank,message", [
    ("exam: {id: a, title: T}\nquestions:\n  - family: [a]\n", "family: expected a family's name"),
    ("x: " + "[" * 3000 + "]" * 3000 + "\n", "nested more than"),
    ("exam: {id: '" + "x" * 300 + "', title: T}\nquestions: []\n", "is not a name"),
])
def test_bad_banks_are_one_line(tmp_path, bank, message):
    path = tmp_path / "bank.yaml"
    path.write_text(bank, encoding="utf-8")
    assert message in one_line(run("generate", str(path), "--no-pdf", "--out", str(tmp_path / "o"), "-q"))


def test_a_negative_seed_is_a_usage_error():
    got = run("solve", "mlp-backprop", "--seed", "-1")
    assert got.returncode == 2 and "Traceback" not in got.stderr


def test_a_truncated_manifest_is_one_line(exam, tmp_path):
    cut = tmp_path / "cut"
    cut.mkdir()
    text = (exam / "manifest.json").read_text(encoding="utf-8")
    (cut / "manifest.json").write_text(text[:500], encoding="utf-8")
    assert "manifest.json" in one_line(run("grade", str(cut), str(exam / "answers-sample.csv")))
    assert "manifest.json" in one_line(run("export", str(cut), "--format", "json"))


def test_a_student_id_too_long_for_the_qr_code_is_one_line(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns1,Ann\ns" + "9" * 3000 + ",Long\n", encoding="utf-8")
    message = one_line(run("generate", str(BANKS / "quiz.yaml"), "--roster", str(roster), "--no-pdf", "--out",
                           str(tmp_path / "o"), "-q"))
    assert "roster.csv: line 3" in message and "at most 64" in message
