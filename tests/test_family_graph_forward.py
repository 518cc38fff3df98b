"""Family graph-forward: the seed 003 Q2a table, fair random graphs, answers checked independently."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from qgen.bank import load_params
from qgen.errors import BankError, FamilyError
from qgen.families import domain as dom
from qgen.families.graph_forward import FAMILY
from qgen.render.exam import document, question_body
from qgen.solve import solve

PINS = Path(__file__).resolve().parent.parent / "banks" / "pins"
PIN = PINS / "seed-003-q2a.yaml"
SEEDS = range(20)
ROMAN = ["(i)", "(ii)", "(iii)", "(iv)", "(v)", "(vi)", "(vii)", "(viii)"]


@lru_cache(maxsize=None)
def question(seed: int):
    return solve("graph-forward", seed=seed)


@lru_cache(maxsize=None)
def pinned():
    return solve("graph-forward", params=load_params(PIN))


def pin_params() -> dict:
    return load_params(PIN)


# -- an independent forward pass over the params (numpy float64, no qgen code) ----------------
OPS = {
    "add": lambda a, b: a + b, "mul": lambda a, b: a * b, "max": np.maximum, "min": np.minimum,
    "square": lambda a: a * a, "neg": lambda a: -a,
}


def forward(params: dict, x: float | None = None) -> np.ndarray:
    """Every node's value, node (i) first."""
    env = {"x": np.float64(params["x"] if x is None else x)}
    out = []
    for i, node in enumerate(params["nodes"], start=1):
        args = [env[a if a == "x" else int(a)] for a in node["args"]]
        if node["op"] == "add_const":
            value = args[0] + np.float64(node["c"])
        elif node["op"] == "mul_const":
            value = args[0] * np.float64(node["c"])
        else:
            value = OPS[node["op"]](*args)
        env[i] = value
        out.append(value)
    return np.array(out)


# -- the seed document's instance ---------------------------------------------------------
def test_pin_gives_the_documents_table():
    assert pinned().parts[0].answer == [2, 3, 4, 5, 4, 3, 5]


def test_pin_table_is_displayed_under_the_node_names():
    tex = pinned().parts[0].answer_tex
    heads = " & ".join(rf"\text{{{h}}}" for h in ROMAN[:7])
    assert f"{heads} \\\\ \\hline 2 & 3 & 4 & 5 & 4 & 3 & 5 \\\\" in tex


def test_pin_worked_line_of_a_join():
    assert pinned().parts[0].worked[3] == r"\text{(iv)} = \text{(i)} + \text{(ii)} = 2 + 3 = 5"


def test_pin_worked_line_of_a_min():
    assert pinned().parts[0].worked[4] == (r"\text{(v)} = \min\left(\text{(iii)}, \text{(iv)}\right) = "
                                           r"\min\left(4, 5\right) = 4")


def test_pin_independent_forward_pass_gives_the_table():
    assert forward(pin_params()).tolist() == [2, 3, 4, 5, 4, 3, 5]


def test_pin_is_a_fair_question():
    params = {k: v for k, v in pin_params().items() if k != "precision"}
    assert FAMILY.problems(params) == []


def test_pin_figure_shows_every_operation():
    figure = str(pinned().context["figure"])
    assert re.findall(r"^\\node\[op\] \(g\d\) at \([-\d.,]+\) \{\$(.*)\$\};$", figure, flags=re.M) == \
        ["+1", r"\times 3", r"(\cdot)^2", "+", r"\min", r"\min", "+"]


def test_pin_figure_tags_the_nodes_in_order():
    assert re.findall(r"\\node\[tag\] at \(.*\) \{(.*)\};", str(pinned().context["figure"])) == ROMAN[:7]


# -- every sampled instance -----------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_answer_agrees_with_an_independent_forward_pass(seed):
    q = question(seed)
    assert q.parts[0].answer == forward(q.params).tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_part_ids_are_unique(seed):
    ids = [p.id for p in question(seed).parts]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_instance_is_fair(seed):
    assert FAMILY.problems(question(seed).params) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_values_are_small_integers(seed):
    values = forward(question(seed).params)
    assert all(v == int(v) and abs(v) <= 50 for v in values)


@pytest.mark.parametrize("seed", SEEDS)
def test_graph_has_five_to_eight_nodes(seed):
    assert 5 <= len(question(seed).params["nodes"]) <= 8


@pytest.mark.parametrize("seed", SEEDS)
def test_max_and_min_inputs_differ(seed):
    params = question(seed).params
    values = {"x": params["x"], **{i: v for i, v in enumerate(forward(params), start=1)}}
    pairs = [[values[a] for a in n["args"]] for n in params["nodes"] if n["op"] in ("max", "min")]
    assert all(a != b for a, b in pairs)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_node_but_the_output_feeds_a_later_node(seed):
    nodes = question(seed).params["nodes"]
    used = {a for n in nodes for a in n["args"]}
    assert set(range(1, len(nodes))) <= used


@pytest.mark.parametrize("seed", SEEDS)
def test_some_node_joins_two_parallel_branches(seed):
    nodes = question(seed).params["nodes"]
    below: dict[int, set] = {}
    for i, n in enumerate(nodes, start=1):
        below[i] = set().union(*({a} | below[a] for a in n["args"] if a != "x"))
    joins = [n for n in nodes if len(n["args"]) == 2 and "x" not in n["args"]
             and n["args"][0] not in below[n["args"][1]] and n["args"][1] not in below[n["args"][0]]]
    assert joins


@pytest.mark.parametrize("seed", SEEDS)
def test_no_node_is_constant_in_x(seed):
    params = question(seed).params
    curves = np.array([forward(params, x) for x in np.linspace(-6, 6, 25)])
    assert all(np.ptp(curves[:, i]) > 0 for i in range(curves.shape[1]))


@pytest.mark.parametrize("seed", SEEDS)
def test_nodes_are_numbered_by_column(seed):
    depth = {"x": 0}
    for i, n in enumerate(question(seed).params["nodes"], start=1):
        depth[i] = 1 + max(depth[a] for a in n["args"])
    columns = [depth[i] for i in range(1, len(depth))]
    assert columns == sorted(columns)


@pytest.mark.parametrize("seed", SEEDS)
def test_worked_line_per_node(seed):
    part = question(seed).parts[0]
    assert [w.split(" = ")[0] for w in part.worked] == [rf"\text{{{h}}}" for h in ROMAN[:len(part.keys)]]


@pytest.mark.parametrize("seed", range(5))
def test_same_seed_gives_identical_parts(seed):
    assert solve("graph-forward", seed=seed).parts == question(seed).parts


@pytest.mark.parametrize("seed", range(5))
def test_stored_params_rebuild_the_same_question(seed):
    assert solve("graph-forward", params=question(seed).params).parts == question(seed).parts


def test_different_seeds_give_different_graphs():
    assert len({repr(question(s).params["nodes"]) for s in SEEDS}) == len(SEEDS)


def test_exam_body_holds_no_answers():
    body = question_body(pinned(), key=False)
    assert "2 & 3 & 4" not in body and r"\qgenanswer" not in body


def test_exam_body_has_an_empty_table_headed_by_the_node_names():
    body = question_body(pinned(), key=False)
    assert " & ".join(ROMAN[:7]) + r" \\" in body


def test_key_body_fills_the_table():
    assert "2 & 3 & 4 & 5 & 4 & 3 & 5" in question_body(pinned(), key=True)


# -- bad pinned parameters and domains -------------------------------------------------------
@pytest.mark.parametrize("change, where", [
    (lambda p: p["nodes"][2].update(op="divide"), "params.nodes[2].op"),
    (lambda p: p["nodes"][3].update(args=[1, 5]), "params.nodes[3].args"),
    (lambda p: p["nodes"][3].update(args=[1]), "params.nodes[3].args"),
    (lambda p: p["nodes"][3].update(args=[2, 2]), "params.nodes[3].args"),
    (lambda p: p["nodes"][0].update(c="one"), "params.nodes[0].c"),
    (lambda p: p["nodes"][2].update(c=2), "params.nodes[2].c"),
    (lambda p: p["nodes"][5].update(args=[4, 2]), "params.nodes[4]"),
    (lambda p: p.update(x="one"), "params.x"),
    (lambda p: p.update(nodes=[]), "params.nodes"),
    (lambda p: p.update(extra=1), "extra"),
], ids=["op", "later-node", "arity", "same-args", "bad-c", "c-on-square", "unused-node", "x", "empty", "unknown-key"])
def test_bad_params_are_a_bank_error_naming_the_key(change, where):
    params = pin_params()
    change(params)
    with pytest.raises(BankError) as exc:
        solve("graph-forward", params=params)
    assert where in str(exc.value)


def test_unused_node_error_names_the_node():
    params = pin_params()
    params["nodes"][5]["args"] = [4, 2]  # (vi) reads (iv) instead of (v): nothing reads (v)
    with pytest.raises(BankError) as exc:
        solve("graph-forward", params=params)
    assert "node (v) feeds no later node" in str(exc.value)


def test_domain_with_an_unknown_operation_is_a_bank_error():
    with pytest.raises(BankError) as exc:
        dom.merge(FAMILY.default_domain, {"operations": ["add", "divide"]}, "questions[0].domain")
    assert "questions[0].domain.operations" in str(exc.value)


def test_domain_without_a_one_input_operation_is_a_family_error():
    domain = dom.merge(FAMILY.default_domain, {"operations": ["add", "max"]}, "d")
    with pytest.raises(FamilyError) as exc:
        FAMILY.sample(np.random.default_rng(0), domain)
    assert "domain.operations" in str(exc.value)


def test_impossible_domain_is_a_family_error_naming_a_constraint():
    domain = dom.merge(FAMILY.default_domain, {"operations": ["neg", "add"], "nodes": [5]}, "d")
    with pytest.raises(FamilyError) as exc:
        FAMILY.sample(np.random.default_rng(0), domain)
    assert "no fair instance" in str(exc.value) and "of 400 draws" in str(exc.value)


def test_domain_of_eight_nodes_gives_eight_nodes():
    domain = dom.merge(FAMILY.default_domain, {"nodes": [8]}, "d")
    assert len(FAMILY.sample(np.random.default_rng(3), domain)["nodes"]) == 8


# -- the PDF, as a student and a grader see it ---------------------------------------------------
def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\u2212", "-")


@pytest.mark.latex
def test_exam_and_key_compile_and_only_the_key_has_the_answers(tmp_path):
    if shutil.which("latexmk") is None or shutil.which("pdftotext") is None:
        pytest.skip("latexmk or pdftotext not installed")
    from qgen.render.pdf import compile_pdf

    questions = [pinned(), question(1), question(2)]
    texts = {}
    for key in (False, True):
        tex = tmp_path / f"{'key' if key else 'exam'}.tex"
        tex.write_text(document(title="Graphs", course="Test", date="", instructions="", exam_id="t", version="1",
                                places=4, questions=questions, key=key))
        texts[key] = _pdf_text(compile_pdf(tex))
    line = "(iv) = (i) + (ii) = 2 + 3 = 5"
    assert line in texts[True] and line not in texts[False] and "Answer:" not in texts[False]
