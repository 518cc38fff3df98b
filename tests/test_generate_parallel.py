"""Drawing versions in worker processes gives exactly what the sequential loop gives: the same
numbers, seeds, redraws and tallies, and the same errors (naming the bank's file and line)."""

from __future__ import annotations

import json
import pickle

import pytest

from qgen import generate, numeric
from qgen.bank import load_bank
from qgen.errors import FamilyError
from qgen.generate import Draws, build_versions, manifest
from tests.conftest import BANKS


@pytest.fixture
def always_parallel(monkeypatch):
    """Workers even for a handful of questions (the threshold is about speed, not correctness)."""
    monkeypatch.setattr(generate, "PER_WORKER", {"fork": 1, "spawn": 1})


def write(tmp_path, text):
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    return load_bank(path)


def both_ways(bank, ids):
    """(manifest, draws) built sequentially and with two workers."""
    out = []
    for jobs in (1, 2):
        draws = Draws()
        versions = build_versions(bank, ids, draws, jobs=jobs)
        out.append((json.dumps(manifest(bank, versions), sort_keys=True), draws))
    return out


def test_a_small_run_stays_in_this_process_and_a_big_one_uses_the_cores():
    assert (generate._workers(2, 5), generate._workers(2, 10_000), generate._workers(1, 10_000)) == (1, 2, 1)


def test_the_threshold_is_met_so_the_workers_run(always_parallel):
    assert generate._workers(2, 2) == 2


def test_workers_draw_the_same_exam_as_the_sequential_loop(always_parallel):
    bank = load_bank(BANKS / "midterm.yaml")
    (alone, alone_draws), (workers, worker_draws) = both_ways(bank, [str(i) for i in range(1, 25)])
    assert workers == alone
    assert (worker_draws.sampled, worker_draws.redrawn, worker_draws.taken) == \
        (alone_draws.sampled, alone_draws.redrawn, alone_draws.taken)


def test_collisions_are_redrawn_as_in_the_sequential_loop(tmp_path, always_parallel):
    bank = write(tmp_path, "exam: {id: few, title: T}\nquestions:\n  - family: chain-rule\n"
                           "    domain: {m: [sum], g: [sin, cos, exp], h: [x^2, x^3], x0: [1, 2]}\n")
    (alone, alone_draws), (workers, worker_draws) = both_ways(bank, [str(i) for i in range(1, 9)])
    assert alone_draws.redrawn[0]["distinct_versions"] > 0  # the case this test is about happened
    assert workers == alone and worker_draws.redrawn == alone_draws.redrawn


def test_pinned_questions_come_back_from_the_workers(always_parallel):
    bank = load_bank(BANKS / "seeds.yaml")
    (alone, _), (workers, _) = both_ways(bank, ["1", "2", "3"])
    assert workers == alone


def test_an_error_in_a_worker_names_the_bank_file_and_line(tmp_path, always_parallel):
    bank = write(tmp_path, "exam:\n  id: fair\n  title: T\nquestions:\n  - family: mlp-backprop\n"
                           "    domain: {hidden_activation: sigmoid, weights: [4], biases: [3], x: [5]}\n")
    messages = []
    for jobs in (1, 2):
        with pytest.raises(FamilyError) as exc:
            build_versions(bank, ["1", "2", "3"], jobs=jobs)
        messages.append(str(exc.value))
    assert messages[1] == messages[0]
    assert messages[1].startswith(f"{tmp_path / 'bank.yaml'}:5:") and "no_saturation" in messages[1]


def test_a_domain_too_small_fails_at_the_same_version(tmp_path, always_parallel):
    bank = write(tmp_path, "exam: {id: few, title: T}\nquestions:\n  - family: chain-rule\n"
                           "    domain: {m: [sum], g: [sin], h: [x^2], x0: [1]}\n")
    with pytest.raises(FamilyError) as exc:
        build_versions(bank, ["1", "2", "3"], jobs=2)
    assert "distinct_versions" in str(exc.value) and "version 2" in str(exc.value)


def test_a_50_digit_real_crosses_processes_exactly():
    v = numeric.sigmoid(numeric.exact("0.3"))
    back = pickle.loads(pickle.dumps(v))
    assert type(back) is numeric.Real and back == v and numeric.decimal_str(back, 40) == numeric.decimal_str(v, 40)


def test_progress_is_told_of_each_version_in_order(always_parallel):
    bank = load_bank(BANKS / "quiz.yaml")
    told: list[str] = []
    versions = build_versions(bank, ["3", "1", "2"], jobs=2, progress=lambda v: told.append(v.id))
    assert told == ["3", "1", "2"] == [v.id for v in versions]
