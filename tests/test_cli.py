"""The command line: every command has help, and errors are one clear line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qgen.cli import main
from tests.conftest import BANKS


@pytest.mark.parametrize("command", [[], ["list"], ["solve"], ["generate"], ["check"], ["grade"], ["sample-answers"]])
def test_every_command_has_help(runner, command):
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_list_names_the_family(runner):
    result = runner.invoke(main, ["list"])
    assert any(line.startswith("mlp-backprop ") for line in result.output.splitlines())


def test_solve_prints_a_table_of_parts(runner):
    result = runner.invoke(main, ["solve", "mlp-backprop", "--seed", "7"])
    assert "grad.W" in result.output and "update.W" in result.output


def test_solve_json_follows_the_contract(runner):
    result = runner.invoke(main, ["solve", "mlp-backprop", "--seed", "7", "--json"])
    record = json.loads(result.output)
    assert set(record) >= {"family", "seed", "network", "solution", "parts"} and record["seed"] == 7


def test_solve_json_gradients_cover_every_parameter(runner):
    record = json.loads(runner.invoke(main, ["solve", "mlp-backprop", "--seed", "3", "--json"]).output)
    shapes = [(len(layer["W"]), len(layer["W"][0]), len(layer["b"])) for layer in record["network"]["layers"]]
    grads = [(len(g["W"]), len(g["W"][0]), len(g["b"])) for g in record["solution"]["gradients"]]
    assert grads == shapes


def test_solve_json_updated_is_parameters_minus_step(runner):
    record = json.loads(runner.invoke(main, ["solve", "mlp-backprop", "--seed", "5", "--json"]).output)
    lr = record["network"]["learning_rate"]
    layer, grad, new = record["network"]["layers"][0], record["solution"]["gradients"][0], record["solution"]["updated"][0]
    assert new["W"][0][0] == pytest.approx(layer["W"][0][0] - lr * grad["W"][0][0], abs=1e-12)


def test_solve_pinned_seed_000_gives_the_documents_gradient(runner):
    result = runner.invoke(main, ["solve", "mlp-backprop", "--params", str(BANKS / "pins" / "seed-000.yaml")])
    assert "-0.2312" in result.output and "1.4624" in result.output


def test_solve_unknown_family_is_a_clear_error(runner):
    result = runner.invoke(main, ["solve", "no-such-family"])
    assert result.exit_code == 1 and "unknown family 'no-such-family'" in result.output and "Traceback" not in result.output


def test_solve_missing_params_file_names_it(runner, tmp_path):
    result = runner.invoke(main, ["solve", "mlp-backprop", "--params", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1 and "nope.yaml: no such file" in result.output


def test_solve_malformed_params_names_file_and_line(runner, tmp_path):
    pin = tmp_path / "pin.yaml"
    pin.write_text("network:\n  layers: [\n")
    result = runner.invoke(main, ["solve", "mlp-backprop", "--params", str(pin)])
    assert result.exit_code == 1 and f"{pin}:" in result.output and "invalid YAML" in result.output


def test_solve_bad_network_names_the_key(runner, tmp_path):
    pin = tmp_path / "pin.yaml"
    pin.write_text("network:\n  layers: [{W: [[1, x]], b: [0]}]\n  data: [{x: [1, 2], y: [1]}]\n  learning_rate: 1\n")
    result = runner.invoke(main, ["solve", "mlp-backprop", "--params", str(pin)])
    assert result.exit_code == 1 and "network.layers[0].W[0][1]" in result.output


def test_seed_and_params_together_is_a_usage_error(runner):
    result = runner.invoke(main, ["solve", "mlp-backprop", "--seed", "1", "--params", str(BANKS / "pins" / "seed-000.yaml")])
    assert result.exit_code == 2 and "not both" in result.output


def test_generate_no_pdf_writes_tex_and_manifest(runner, tmp_path):
    out = tmp_path / "set"
    result = runner.invoke(main, ["generate", str(BANKS / "quiz.yaml"), "--versions", "2", "--out", str(out), "--no-pdf", "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [".qgen-output", "answers-template.csv", "exam-1.tex", "exam-2.tex",
                                                     "key-1.tex", "key-2.tex", "manifest.json"]


def test_generate_refuses_to_overwrite(runner, tmp_path):
    out = tmp_path / "set"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    result = runner.invoke(main, ["generate", str(BANKS / "quiz.yaml"), "--out", str(out), "--no-pdf", "-q"])
    assert result.exit_code == 1 and "--force" in result.output and (out / "precious.txt").read_text() == "keep me"


def test_generate_force_replaces_the_folder(runner, tmp_path):
    out = tmp_path / "set"
    args = ["generate", str(BANKS / "quiz.yaml"), "--versions", "1", "--out", str(out), "--no-pdf", "-q"]
    assert runner.invoke(main, args).exit_code == 0
    (out / "old.txt").write_text("old")
    result = runner.invoke(main, [*args, "--force"])
    assert result.exit_code == 0 and not (out / "old.txt").exists() and (out / "exam-1.tex").exists()


@pytest.mark.parametrize("target", ["own", "home", "root"])
def test_generate_force_never_replaces_a_folder_qgen_did_not_write(runner, tmp_path, monkeypatch, target):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    out = {"own": tmp_path / "docs", "home": tmp_path / "home", "root": Path("/")}[target]
    if target != "root":
        out.mkdir()
        (out / "thesis.tex").write_text("years of work")
    result = runner.invoke(main, ["generate", str(BANKS / "quiz.yaml"), "--out", str(out), "--no-pdf", "--force", "-q"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    if target != "root":
        assert (out / "thesis.tex").read_text() == "years of work"


def test_generate_refuses_a_link_to_nothing(runner, tmp_path):
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    result = runner.invoke(main, ["generate", str(BANKS / "quiz.yaml"), "--out", str(tmp_path / "dangling"),
                                  "--no-pdf", "-q"])
    assert result.exit_code == 1 and "link to nothing" in result.output


def test_generate_without_tex_says_what_to_install(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = runner.invoke(main, ["generate", str(BANKS / "quiz.yaml"), "--out", str(tmp_path / "set"), "-q"])
    assert result.exit_code == 1 and "texlive-latex-base" in result.output and "--no-pdf" in result.output


def test_generate_failed_run_leaves_no_output(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    runner.invoke(main, ["generate", str(BANKS / "quiz.yaml"), "--out", str(tmp_path / "set"), "-q"])
    assert not (tmp_path / "set").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".set")]


def test_generate_unknown_bank_key_names_file_and_line(runner, tmp_path):
    bank = tmp_path / "bank.yaml"
    bank.write_text("exam:\n  id: t\n  title: T\n  colour: red\nquestions:\n  - family: mlp-backprop\n")
    result = runner.invoke(main, ["generate", str(bank), "--no-pdf", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and f"{bank}:4: exam.colour: unknown key" in result.output


@pytest.mark.parametrize("family", sorted(__import__("qgen.families", fromlist=["FAMILIES"]).FAMILIES))
def test_solve_works_for_every_family(runner, family):
    result = runner.invoke(main, ["solve", family, "--seed", "4", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["family"] == family


def test_list_shows_every_family(runner):
    from qgen.families import FAMILIES

    listed = {line.split()[0] for line in runner.invoke(main, ["list"]).output.splitlines()}
    assert listed == set(FAMILIES)


def test_check_reports_rates_and_difficulty(runner):
    result = runner.invoke(main, ["check", str(BANKS / "midterm.yaml"), "--versions", "6"])
    assert result.exit_code == 0, result.output
    assert "draws rejected by:" in result.output and "Q5 graph-partials" in result.output
    assert "version" in result.output and ("outliers" in result.output or "no outliers" in result.output)


def test_check_names_a_bad_bank_key(runner, tmp_path):
    bank = tmp_path / "b.yaml"
    bank.write_text("exam: {id: x, title: T}\nquestions:\n  - family: mlp-backprop\n    constraints: {nope: off}\n")
    result = runner.invoke(main, ["check", str(bank)])
    assert result.exit_code == 1 and f"{bank}:4" in result.output and "nope" in result.output
