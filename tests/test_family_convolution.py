"""Family convolution: every number checked by an independent method (numpy loops, finite differences, torch)."""

from __future__ import annotations

import copy
import shutil
import subprocess
from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qgen.errors import BankError, FamilyError
from qgen.families import domain as dom
from qgen.families.convolution import FAMILY, problems
from qgen.generate import question_record
from qgen.nn import conv as cv
from qgen.render.exam import document, question_body
from qgen.solve import solve

# -- pinned instances: 1-D and 2-D, stride 2, padding 1, max and average pooling, none ---------------------
PINS = {
    "2d_s2_p1_max": {"dims": 2, "input": [[1, -2, 3, 0, 2], [0, 1, -1, 2, 3], [2, 3, 0, -2, 1], [-1, 0, 2, 1, 0],
                                          [3, 1, -2, 0, 2]],
                     "kernel": [[1, 0, -1], [2, 1, 0], [0, -1, 1]], "stride": 2, "padding": 1,
                     "pool": {"kind": "max", "size": 2, "stride": 2}, "upstream": [[2]]},
    "2d_s1_p1_avg": {"dims": 2, "input": [[1, 2, 0, -1], [3, -2, 1, 0], [0, 1, 2, 2], [-1, 0, 3, 1]],
                     "kernel": [[1, -1, 0], [2, 0, 1], [0, 1, -1]], "bias": 1, "stride": 1, "padding": 1,
                     "pool": {"kind": "average", "size": 2, "stride": 2}, "upstream": [[1, -1], [2, 0]]},
    "2d_no_pool": {"dims": 2, "input": [[1, 2, 0, -1], [3, -2, 1, 0], [0, 1, 2, 2], [-1, 0, 3, 1]],
                   "kernel": [[2, -1], [0, 1]], "bias": -1, "stride": 1, "padding": 0,
                   "upstream": [[1, 0, -1], [2, 1, 0], [0, -1, 1]]},
    "1d_s2_p1_max": {"dims": 1, "input": [2, -1, 3, 0, 1, -2, 2], "kernel": [1, 2, 1], "stride": 2, "padding": 1,
                     "pool": {"kind": "max", "size": 2, "stride": 2}, "upstream": [1, -1]},
    "1d_avg": {"dims": 1, "input": [1, 3, -2, 0, 2, 1], "kernel": [2, -1], "bias": "1/2", "stride": 1, "padding": 0,
               "pool": {"kind": "average", "size": 2, "stride": 2}, "upstream": [2, -1]},
    "2d_overlapping_avg": {"dims": 2, "input": [[1, 0, 2, -1], [0, 3, 1, 2], [2, -1, 0, 1], [1, 1, -2, 0]],
                           "kernel": [[1, 1], [0, -1]], "stride": 1, "padding": 0,
                           "pool": {"kind": "average", "size": 2, "stride": 1}, "upstream": [[1, 2], [-1, 0]]},
}
SEEDS = range(6)


@cache
def pinned(name: str):
    return solve("convolution", params={"conv": copy.deepcopy(PINS[name])})


@cache
def drawn(seed: int, dims: int = 2):
    fam_domain = dict(FAMILY.default_domain, dims=[dims])
    params = FAMILY.sample(np.random.default_rng(seed), fam_domain)
    return solve("convolution", params=params)


def record(q) -> dict:
    """What `qgen solve convolution --json` prints for a question."""
    return question_record(q, None)


# -- an independent implementation: numpy loops over the padded input -----------------------------------------
def arrays(spec: dict):
    """X, K, b and the upstream gradient as float arrays (1-D grids as one row)."""
    def as2(v):
        rows = [v] if spec["dims"] == 1 else v
        return np.array([[float(Fraction(str(e))) for e in row] for row in rows])

    return as2(spec["input"]), as2(spec["kernel"]), float(Fraction(str(spec.get("bias", 0)))), as2(spec["upstream"])


def np_conv(x, k, b, spec):
    s, p = spec.get("stride", 1), spec.get("padding", 0)
    sh, ph = (s, p) if spec["dims"] == 2 else (1, 0)
    xp = np.pad(x, ((ph, ph), (p, p)))
    kh, kw = k.shape
    oh, ow = (xp.shape[0] - kh) // sh + 1, (xp.shape[1] - kw) // s + 1
    return np.array([[np.sum(xp[i * sh:i * sh + kh, j * s:j * s + kw] * k) + b for j in range(ow)]
                     for i in range(oh)])


def np_pool(y, spec):
    pool = spec.get("pool")
    if pool is None:
        return y
    size, step = pool["size"], pool.get("stride", pool["size"])
    rows, rstep = (size, step) if spec["dims"] == 2 else (1, 1)
    ph, pw = (y.shape[0] - rows) // rstep + 1, (y.shape[1] - size) // step + 1
    f = np.max if pool["kind"] == "max" else np.mean
    return np.array([[f(y[i * rstep:i * rstep + rows, j * step:j * step + size]) for j in range(pw)]
                     for i in range(ph)])


def loss(x, k, b, up, spec):
    """L = Σ upstream ⊙ (pooled) output: its gradients are exactly what the parts ask."""
    return float(np.sum(up * np_pool(np_conv(x, k, b, spec), spec)))


def fd(f, a, h=1e-4):
    """Central finite differences of the scalar f at every entry of a."""
    out = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        plus, minus = a.copy(), a.copy()
        plus[idx] += h
        minus[idx] -= h
        out[idx] = (f(plus) - f(minus)) / (2 * h)
    return out


def grid(value, dims):
    return np.array([value] if dims == 1 else value, float)


def check_against_numpy(spec: dict, sol: dict):
    x, k, b, up = arrays(spec)
    d = spec["dims"]
    y = np_conv(x, k, b, spec)
    assert sol["output_shape"] == ([y.shape[1]] if d == 1 else list(y.shape))
    np.testing.assert_allclose(grid(sol["output"], d), y, atol=1e-12)
    if spec.get("pool"):
        np.testing.assert_allclose(grid(sol["pooled"], d), np_pool(y, spec), atol=1e-12)
        dy = fd(lambda yy: float(np.sum(up * np_pool(yy, spec))), y)
        np.testing.assert_allclose(grid(sol["grad_output"], d), dy, atol=1e-6)
    np.testing.assert_allclose(grid(sol["grad_kernel"], d), fd(lambda kk: loss(x, kk, b, up, spec), k), atol=1e-6)
    np.testing.assert_allclose(grid(sol["grad_input"], d), fd(lambda xx: loss(xx, k, b, up, spec), x), atol=1e-6)
    db = (loss(x, k, b + 1e-4, up, spec) - loss(x, k, b - 1e-4, up, spec)) / 2e-4
    assert sol["grad_bias"] == pytest.approx(db, abs=1e-6)


@pytest.mark.parametrize("name", sorted(PINS))
def test_pinned_solution_agrees_with_numpy_and_finite_differences(name):
    check_against_numpy(PINS[name], record(pinned(name))["solution"])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dims", [1, 2])
def test_drawn_solution_agrees_with_numpy_and_finite_differences(seed, dims):
    rec = record(drawn(seed, dims))
    check_against_numpy(rec["conv"], rec["solution"])


def test_hand_worked_pin_gives_the_expected_numbers():
    sol = record(pinned("1d_avg"))["solution"]
    # Y_j = 2·X_j − X_{j+1} + 1/2; P = means of (Y1, Y2), (Y3, Y4); Y5 dropped by floor mode
    assert sol["output"] == [-0.5, 8.5, -3.5, -1.5, 3.5]
    assert sol["pooled"] == [4, -2.5]
    assert sol["grad_output"] == [1, 1, -0.5, -0.5, 0]
    assert sol["grad_bias"] == 1


# -- the same answers from PyTorch's own conv/pool and autograd ---------------------------------------------------
def torch_solution(spec: dict) -> dict:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, k, b, up = arrays(spec)
    one = spec["dims"] == 1
    shape = (lambda a: a[0][None, None]) if one else (lambda a: a[None, None])
    tx = torch.tensor(shape(x), dtype=torch.float64, requires_grad=True)
    tk = torch.tensor(shape(k), dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([b], dtype=torch.float64, requires_grad=True)
    conv = F.conv1d if one else F.conv2d
    y = conv(tx, tk, tb, stride=spec.get("stride", 1), padding=spec.get("padding", 0))
    y.retain_grad()
    out = y
    pool = spec.get("pool")
    if pool:
        fn = {("max", True): F.max_pool1d, ("max", False): F.max_pool2d, ("average", True): F.avg_pool1d,
              ("average", False): F.avg_pool2d}[pool["kind"], one]
        out = fn(y, pool["size"], pool.get("stride", pool["size"]))
    (out * torch.tensor(shape(up), dtype=torch.float64)).sum().backward()
    flat = (lambda t: t.detach()[0, 0].numpy())
    return {"output": flat(y), "pooled": flat(out), "grad_output": flat(y.grad), "grad_kernel": flat(tk.grad),
            "grad_bias": float(tb.grad[0]), "grad_input": flat(tx.grad)}


def check_against_torch(spec: dict, sol: dict):
    ref = torch_solution(spec)
    d = spec["dims"]
    for key in ("output", "grad_kernel", "grad_input") + (("pooled", "grad_output") if spec.get("pool") else ()):
        np.testing.assert_allclose(grid(sol[key], d).reshape(ref[key].shape), ref[key], atol=1e-9, err_msg=key)
    assert sol["grad_bias"] == pytest.approx(ref["grad_bias"])


@pytest.mark.parametrize("name", sorted(PINS))
def test_pinned_solution_agrees_with_torch_autograd(name):
    check_against_torch(PINS[name], record(pinned(name))["solution"])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dims", [1, 2])
def test_drawn_solution_agrees_with_torch_autograd(seed, dims):
    rec = record(drawn(seed, dims))
    check_against_torch(rec["conv"], rec["solution"])


def test_max_pool_tie_goes_to_the_first_largest_cell_as_in_torch():
    spec = {"dims": 2, "input": [[3, 3], [1, 3]], "kernel": [[1]], "pool": {"kind": "max", "size": 2},
            "upstream": [[3]]}
    c = cv.parse(spec)
    sol = cv.solution(cv.build(c), c)
    assert sol["grad_output"] == [[3, 0], [0, 0]]
    check_against_torch(spec, sol)


# -- a property test: random small layers agree with numpy ---------------------------------------------------------
@st.composite
def layers(draw):
    dims = draw(st.sampled_from([1, 2]))
    k = draw(st.integers(1, 3))
    s = draw(st.integers(1, 2))
    p = draw(st.integers(0, k - 1))
    n = draw(st.integers(max(k, 3), 6))
    rows = 1 if dims == 1 else n
    krows = 1 if dims == 1 else k
    nums = st.integers(-3, 3)
    x = [draw(st.lists(nums, min_size=n, max_size=n)) for _ in range(rows)]
    kern = [draw(st.lists(nums, min_size=k, max_size=k)) for _ in range(krows)]
    spec = {"dims": dims, "input": x[0] if dims == 1 else x, "kernel": kern[0] if dims == 1 else kern,
            "bias": draw(nums), "stride": s, "padding": p}
    oh, ow = cv.out_size(rows, krows, s if dims == 2 else 1, p if dims == 2 else 0), cv.out_size(n, k, s, p)
    if draw(st.booleans()) and min(ow, oh if dims == 2 else ow) >= 2:
        kind = draw(st.sampled_from(["average", "max"]))
        spec["pool"] = {"kind": kind, "size": 2, "stride": 2}
        oh, ow = ((oh - 2) // 2 + 1 if dims == 2 else 1), (ow - 2) // 2 + 1
    up = [draw(st.lists(nums, min_size=ow, max_size=ow)) for _ in range(oh)]
    spec["upstream"] = up[0] if dims == 1 else up
    return spec


@settings(max_examples=30, deadline=None)
@given(layers())
def test_random_layers_agree_with_numpy(spec):
    c = cv.parse(spec)
    t = cv.build(c)
    sol = cv.solution(t, c)
    x, k, b, _up = arrays(spec)
    y = np_conv(x, k, b, spec)
    np.testing.assert_allclose(grid(sol["output"], spec["dims"]), y)
    if spec.get("pool"):
        values = [[t[c.key("Y", u, v)] for u, v in w] for _, w in c.windows()]
        if spec["pool"]["kind"] == "max" and any(w.count(max(w)) > 1 for w in values):
            return  # a tie: the finite differences are one-sided there
    check_against_numpy(spec, sol)


# -- fairness -----------------------------------------------------------------------------------------------------------
def test_fifty_versions_are_fair_and_distinct():
    seen = set()
    for seed in range(50):
        params = FAMILY.sample(np.random.default_rng(1000 + seed), FAMILY.default_domain)
        assert problems(params) == []
        c = cv.parse(params["conv"])
        t = cv.build(c)
        assert all(abs(q.value) <= 30 for q in t)
        if c.pool is not None and c.pool.kind == "max":
            for _, window in c.windows():
                values = [t[c.key("Y", u, v)] for u, v in window]
                assert values.count(max(values)) == 1
        assert any(t[k] != 0 for k in c.keys("dL_dK", (len(c.k), len(c.k[0]))))
        seen.add(repr(params))
    assert len(seen) == 50


def test_max_pool_tie_is_a_well_posed_problem():
    spec = {"dims": 1, "input": [2, 2, 1, 3, 0, 1], "kernel": [1], "pool": {"kind": "max", "size": 2},
            "upstream": [1, 2, 1]}
    assert any(p.startswith("well_posed") for p in problems({"conv": spec}))


def test_all_zero_output_row_is_a_varied_outputs_problem():
    spec = {"dims": 2, "input": [[0, 0, 0], [1, 2, 3], [2, -1, 1]], "kernel": [[1]], "upstream": [[1] * 3] * 3}
    assert any(p.startswith("varied_outputs") for p in problems({"conv": spec}))


def test_shared_size_fits_the_shared_settings():
    d = dict(FAMILY.default_domain, kernel_size=[3], stride=[2], padding=[0], pool=["max"])
    sizes = {FAMILY.shared_size(np.random.default_rng(s), d)[0] for s in range(20)}
    assert sizes and all(cv.out_size(n, 3, 2, 0) >= 2 for n in sizes)


def test_unfittable_shared_settings_are_a_family_error():
    d = dict(FAMILY.default_domain, size=[4], kernel_size=[3], stride=[2], padding=[0], pool=["max"], pool_size=[2])
    with pytest.raises(FamilyError) as exc:
        FAMILY.shared_size(np.random.default_rng(0), d)
    assert "domain.size" in str(exc.value)


def test_unknown_domain_key_is_a_bank_error():
    with pytest.raises(BankError) as exc:
        dom.merge(FAMILY.default_domain, {"channels": [2]}, "questions[0].domain")
    assert "channels" in str(exc.value)


# -- validation ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("change, where", [
    (lambda s: s.update(dims=3), "params.conv.dims"),
    (lambda s: s.update(stride=0), "params.conv.stride"),
    (lambda s: s.update(padding=3), "params.conv.padding"),
    (lambda s: s.update(kernel=[[1] * 7] * 7), "params.conv.kernel"),
    (lambda s: s.update(upstream=[[1, 2]]), "params.conv.upstream"),
    (lambda s: s["pool"].update(kind="min"), "params.conv.pool.kind"),
    (lambda s: s["pool"].update(size=5), "params.conv.pool.size"),
    (lambda s: s["input"][1].append(3), "params.conv.input"),
    (lambda s: s.update(input=[[1, "x"], [0, 1]]), "params.conv.input[0][1]"),
    (lambda s: s.update(colour=1), "params.conv"),
])
def test_bad_params_are_a_bank_error_naming_the_key(change, where):
    spec = copy.deepcopy(PINS["2d_s1_p1_avg"])
    change(spec)
    with pytest.raises(BankError) as exc:
        solve("convolution", params={"conv": spec})
    assert where in str(exc.value)


# -- parts, trace, rendering ----------------------------------------------------------------------------------------------
def test_part_ids_are_stable():
    assert [p.id for p in pinned("2d_s2_p1_max").parts] == ["shape", "output", "pooled", "grad_output", "grad_kernel",
                                                             "grad_bias", "grad_input", "why"]
    assert [p.id for p in pinned("2d_no_pool").parts] == ["shape", "output", "grad_kernel", "grad_bias", "grad_input",
                                                          "why"]


def test_output_cell_worked_line_shows_the_sum():
    q = pinned("2d_no_pool")
    part = next(p for p in q.parts if p.id == "output")
    # Y11 = 2·1 − 1·2 + 0·3 + 1·(−2) − 1 = −3
    assert part.worked[0].startswith("Y_{1,1} = K_{1,1} \\cdot X_{1,1} + K_{1,2} \\cdot X_{1,2}")
    assert part.worked[0].endswith("= -3")


def test_stored_params_rebuild_the_same_question():
    q = pinned("2d_s2_p1_max")
    again = solve("convolution", params=q.params)
    assert [p.answer for p in again.parts] == [p.answer for p in q.parts]


def test_exam_body_has_the_figure_and_no_answers_and_the_key_has_them():
    q = pinned("2d_s2_p1_max")
    exam, key = question_body(q, key=False), question_body(q, key=True)
    assert "dashed, fill=black!8" in exam and "not} flipped" in exam
    assert r"\qgenanswer" not in exam and r"\qgenanswer" in key and "Rubric" in key


# -- grading: full marks, error carried forward, the kernel-flip slip -----------------------------------------------------
def graded(q, typed: dict[str, str]):
    from qgen.grade.score import Question, score_question

    rec = dict(record(q), index=1)
    return {s.part: s for s in score_question(Question.from_record(rec), {f"q1.{k}": v for k, v in typed.items()})}


def typed_answers(q) -> dict[str, str]:
    out = {}
    for p in q.parts:
        if p.kind == "matrix":
            out[p.id] = "; ".join(" ".join(repr(v) for v in row) for row in p.answer)
        elif p.kind == "vector":
            out[p.id] = "[" + ", ".join(repr(v) for v in p.answer) + "]"
        elif p.kind == "shape":
            out[p.id] = f"{p.answer[0]}x{p.answer[1]}"
        elif p.kind != "text":
            out[p.id] = repr(p.answer)
    return out


@pytest.mark.parametrize("name", ["2d_s2_p1_max", "1d_avg", "2d_no_pool"])
def test_a_perfect_student_gets_full_marks(name):
    q = pinned(name)
    scores = graded(q, typed_answers(q))
    assert all(s.status == "correct" for s in scores.values() if s.status != "manual")
    assert sum(s.earned for s in scores.values() if s.earned is not None) == sum(p.points for p in q.parts
                                                                                  if p.kind != "text")


def test_a_wrong_output_carries_forward_into_max_pooling():
    q = pinned("2d_s1_p1_avg")
    typed = typed_answers(q)
    out = next(p for p in q.parts if p.id == "output").answer
    wrong = [row[:] for row in out]
    wrong[0][0] += 10  # the top-left window's mean moves by 2.5
    typed["output"] = "; ".join(" ".join(repr(v) for v in row) for row in wrong)
    pooled = [row[:] for row in next(p for p in q.parts if p.id == "pooled").answer]
    pooled[0][0] += 2.5
    typed["pooled"] = "; ".join(" ".join(repr(v) for v in row) for row in pooled)
    scores = graded(q, typed)
    assert scores["output"].status == "partial"
    assert scores["pooled"].status == "ecf" and scores["pooled"].earned == scores["pooled"].points


def test_a_flipped_kernel_is_named_as_a_slip():
    spec = copy.deepcopy(PINS["2d_no_pool"])
    q = pinned("2d_no_pool")
    flipped = copy.deepcopy(spec)
    flipped["kernel"] = [row[::-1] for row in spec["kernel"][::-1]]
    flipped_y = record(solve("convolution", params={"conv": flipped}))["solution"]["output"]
    typed = {"output": "; ".join(" ".join(str(v) for v in row) for row in flipped_y)}
    score = graded(q, typed)["output"]
    assert "kernel flipped" in score.note


# -- the PDF --------------------------------------------------------------------------------------------------------------------
@pytest.mark.latex
def test_exam_and_key_compile_and_only_the_key_has_the_answers(tmp_path):
    if shutil.which("latexmk") is None or shutil.which("pdftotext") is None:
        pytest.skip("latexmk or pdftotext not installed")
    from qgen.render.pdf import compile_pdf

    questions = [pinned("2d_s2_p1_max"), pinned("1d_avg")]
    texts = {}
    for key in (False, True):
        tex = tmp_path / f"{'key' if key else 'exam'}.tex"
        tex.write_text(document(title="Conv", course="Test", date="", instructions="", exam_id="t", version="1",
                                places=4, questions=questions, key=key))
        texts[key] = subprocess.run(["pdftotext", "-layout", str(compile_pdf(tex)), "-"], capture_output=True,
                                    text=True, check=True).stdout
    assert "cross-correlation" in texts[False] and "Answer:" not in texts[False]
    assert "Answer:" in texts[True] and "Rubric" in texts[True]


def test_cli_solve_json_prints_the_documented_blocks(runner):
    import json

    from qgen.cli import main

    result = runner.invoke(main, ["solve", "convolution", "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    rec = json.loads(result.output)
    assert set(rec["conv"]) >= {"dims", "input", "kernel", "bias", "stride", "padding", "upstream"}
    assert set(rec["solution"]) >= {"output_shape", "output", "grad_kernel", "grad_bias", "grad_input"}
    check_against_numpy(rec["conv"], rec["solution"])



def test_a_shape_without_the_padding_or_the_stride_is_named_as_a_slip():
    from qgen.grade.columns import part_columns
    from qgen.grade.score import Question, score_question

    spec = {"dims": 2, "input": [[1, 2, 0, 1, 3], [0, 1, 2, 1, 1], [2, 1, 0, 3, 1], [1, 0, 1, 2, 2], [3, 1, 2, 0, 1]],
            "kernel": [[1, -1], [2, 1]], "stride": 2, "padding": 1, "upstream": [[1, 0, 2], [1, 1, 0], [2, 1, 1]]}
    rec = dict(record(solve("convolution", params={"conv": spec})), index=1, title="", points=1)
    part = next(p for p in rec["parts"] if p["id"] == "shape")
    assert part["answer"] == [3, 3]
    assert {s["name"]: s["answer"] for s in part["slips"]} == {"padding left out": [2, 2], "stride ignored": [6, 6]}
    for typed, note in (("2x2", "padding left out"), ("6 x 6", "stride ignored"), ("3x3", "")):
        cells = {part_columns(1, part)[0].name: typed}
        score = next(s for s in score_question(Question.from_record(rec), cells) if s.part == "shape")
        assert (note in score.note) if note else score.status == "correct", (typed, score)
