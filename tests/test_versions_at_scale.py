"""500 versions of every family with its default domain: every constraint holds, no two versions
share their numbers, and another process draws the same numbers and renders byte-identical .tex
(every 10th version's key is rendered: the layout search of some figures is the slow part)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from qgen import families
from qgen.bank import load_bank
from qgen.families import checks
from qgen.generate import Draws, build_versions
from qgen.publish import render_version
from tests.conftest import ROOT

VERSIONS = 500
RENDERED = 10  # render every RENDERED-th version in both processes
# what the default domain asks of the constraints that take a setting
SETTINGS = {"mlp-backprop": {"dead_units": 0}, "batch-gd": {"dead_unit": "required"}}

_RENDER = """
import hashlib, json, sys
from qgen.bank import load_bank
from qgen.generate import build_versions
from qgen.publish import render_version
bank = load_bank(sys.argv[1])
for n, v in enumerate(build_versions(bank, [str(i) for i in range(1, int(sys.argv[2]) + 1)]), start=1):
    text = render_version(bank, v, key=True) if n % int(sys.argv[3]) == 0 else json.dumps([q.params for q in v.questions])
    print(v.id, hashlib.sha256(text.encode()).hexdigest())
"""


def _bank(tmp_path, family):
    path = tmp_path / f"{family}.yaml"
    path.write_text(f"exam: {{id: scale-{family}, title: Scale}}\nquestions:\n  - family: {family}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("family", sorted(families.FAMILIES))
def test_five_hundred_versions_are_fair_distinct_and_reproducible(tmp_path, family):
    path = _bank(tmp_path, family)
    other = subprocess.Popen([sys.executable, "-c", _RENDER, str(path), str(VERSIONS), str(RENDERED)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)  # the other process works while this one does
    bank = load_bank(path)
    fam = families.get(family)
    versions = build_versions(bank, [str(i) for i in range(1, VERSIONS + 1)], Draws())
    questions = [v.questions[0] for v in versions]

    broken = {v.id: fam.problems(q.params, **SETTINGS.get(family, {})) for v, q in zip(versions, questions)}
    assert {v: p for v, p in broken.items() if p} == {}
    if "distinct_answers" not in getattr(fam, "relaxed", ()):
        clashes = {v.id: checks.answer_clashes(q) for v, q in zip(versions, questions)}
        assert {v: c for v, c in clashes.items() if c} == {}
    prints = [checks.fingerprint(fam, q.params) for q in questions]
    assert len(set(prints)) == VERSIONS

    texts = {v.id: render_version(bank, v, key=True) if n % RENDERED == 0 else json.dumps([q.params for q in v.questions])
             for n, v in enumerate(versions, start=1)}
    mine = {v: hashlib.sha256(text.encode()).hexdigest() for v, text in texts.items()}
    out, _ = other.communicate(timeout=600)
    theirs = dict(line.split() for line in out.splitlines())
    assert other.returncode == 0 and theirs == mine


def test_a_version_drawn_alone_matches_it_in_the_set_when_nothing_was_redrawn(tmp_path):
    bank = load_bank(_bank(tmp_path, "mlp-backprop"))
    alone = build_versions(bank, ["7"])[0]
    among = build_versions(bank, [str(i) for i in range(1, 8)])[-1]
    assert json.dumps(alone.questions[0].params) == json.dumps(among.questions[0].params)
