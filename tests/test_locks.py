"""Runs on the same output folder exclude each other; a killed run's lock is recognised as stale."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from qgen.lock import LockError, hold, lock_path
from tests.conftest import ROOT


def test_a_second_run_fails_at_once_naming_the_holder(tmp_path):
    out = tmp_path / "grades"
    with hold(out, "qgen grade"):
        with pytest.raises(LockError) as e:
            with hold(out, "qgen generate"):
                pass
    message = str(e.value)
    assert "\n" not in message and f"process {os.getpid()}" in message and "qgen grade" in message
    assert not lock_path(out).exists()  # released by the holder, not by the refused run


def test_a_lock_of_a_killed_run_is_taken_over(tmp_path):
    out = tmp_path / "grades"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock_path(out).write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(),
                                          "command": "qgen grade", "started": "then"}), encoding="utf-8")
    with hold(out, "qgen grade"):
        assert json.loads(lock_path(out).read_text())["pid"] == os.getpid()
    assert not lock_path(out).exists()


def test_a_live_lock_from_another_process_is_respected(tmp_path):
    out = tmp_path / "grades"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
                               "from qgen.lock import hold\nwith hold(Path(sys.argv[1]), 'qgen grade'):\n"
                               "    print('held', flush=True); time.sleep(30)\n", str(out)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockError, match=f"process {holder.pid}"):
            with hold(out, "qgen grade"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with hold(out, "qgen grade"):  # the killed holder's lock is stale now
        pass


def test_two_grade_runs_on_one_folder_through_the_cli(tmp_path):
    exam = tmp_path / "exam"
    qgen = [sys.executable, "-m", "qgen"]
    subprocess.run([*qgen, "generate", str(ROOT / "banks" / "quiz.yaml"), "--versions", "2", "--no-pdf", "--out",
                    str(exam), "-q"], check=True, cwd=ROOT)
    subprocess.run([*qgen, "sample-answers", str(exam)], check=True, cwd=ROOT, capture_output=True)
    out = exam / "grades"
    with hold(out, "qgen grade (a test)"):
        got = subprocess.run([*qgen, "grade", str(exam), str(exam / "answers-sample.csv"), "-q"], cwd=ROOT,
                             capture_output=True, text=True)
    assert got.returncode == 1 and got.stderr.count("\n") == 1 and "qgen grade (a test)" in got.stderr
    assert not out.exists()


def test_two_generate_runs_on_one_folder(tmp_path, runner):
    from qgen.cli import main

    out = tmp_path / "set"
    with hold(out, "qgen generate (a test)"):
        result = runner.invoke(main, ["generate", str(ROOT / "banks" / "quiz.yaml"), "--no-pdf", "--out", str(out),
                                      "-q"])
    assert result.exit_code == 1 and "qgen generate (a test)" in result.output and not out.exists()
    assert result.output.count("\n") == 1


def test_a_failed_folder_qgen_did_not_write_is_never_deleted(tmp_path, monkeypatch):
    import qgen.publish as publish
    from qgen.bank import load_bank
    from qgen.errors import RenderError

    failed = tmp_path / "set.failed"
    failed.mkdir()
    (failed / "notes.txt").write_text("mine", encoding="utf-8")

    def boom(*args, **kwargs):
        raise RenderError("exam-1.tex:3: Undefined control sequence")

    from qgen.render import papers

    monkeypatch.setattr(papers.SetRun, "finish", boom)
    with pytest.raises(RenderError) as e:
        publish.write_exam_set(load_bank(ROOT / "banks" / "quiz.yaml"), ["1"], tmp_path / "set")
    assert (failed / "notes.txt").read_text(encoding="utf-8") == "mine"
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("set.failed-")]
    assert len(kept) == 1 and str(kept[0]) in str(e.value) and (kept[0] / "exam-1.tex").exists()
