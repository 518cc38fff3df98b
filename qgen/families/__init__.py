"""The registry of question families: name -> Family, each family's module imported when it is first used.

A new family is one module with `FAMILY = MyFamily()` (and its template) plus its line in
INDEX below: its name, module and one-line summary. The index is what lets `qgen list` and an
unknown family's error answer without importing any family (their modules pull in numpy, mpmath,
jinja2 and, for some, sympy: most of a second), and `get` import only the family asked for. The
index cannot drift from the modules unnoticed: loading a family checks its name and summary
against its line, and loading them all (`FAMILIES.values()`, which every bank does) checks that
every module defining FAMILY has a line.

A course's own families (qgen.families.course: a bank's `families:` folders, or installed packages'
entry points) join the registry once loaded; their names never clash with these.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple

from qgen.errors import FamilyError
from qgen.families import course

if TYPE_CHECKING:
    from qgen.families.base import Family


class Entry(NamedTuple):
    """What is known of a family without importing it."""

    module: str  # the module of qgen.families that defines FAMILY
    summary: str  # FAMILY.summary, as `qgen list` prints it


# in module order, the order families were always discovered (and bank checks list constraints) in
INDEX: dict[str, Entry] = {
    "activations": Entry("activation_table", (
        "Activation functions (sigmoid, tanh, ReLU, leaky ReLU, linear): definition, derivative in terms of "
        "g(z) or z, and values g(z), g'(z) at given points (seed 001 §1).")),
    "batch-gd": Entry("batch_gd", (
        "Batch gradient descent on 2-4 points: forward pass and loss per point, L(D), delta terms, per-example "
        "and mean gradients, theta after one step, the loss again, what eta does (seed 002).")),
    "chain-rule": Entry("chain_rule", (
        "y = m(g(x), h(x)): the multivariate chain rule, dy/dx symbolically and at a point, and the "
        "product/quotient rule derived from it (seed 001 §2).")),
    "convolution": Entry("convolution", (
        "Convolution layer (1-D/2-D cross-correlation, stride, zero padding) with max/average pooling: output "
        "shape and values, pooled values, gradients w.r.t. kernel, bias and input from an upstream gradient.")),
    "graph-forward": Entry("graph_forward", (
        "Computation graph of +, ×, max, min, square, …: fill in every node's value for a given x "
        "(seed 003 Q2a).")),
    "graph-partials": Entry("graph_partials", (
        "Two-path ReLU→sigmoid network y = σ(a·r1) + σ(b·r2): ∂y/∂a … ∂y/∂f from stated rounded forward "
        "values, without a calculator (seed 003 Q2b).")),
    "logistic-sgd": Entry("logistic_sgd", (
        "Logistic regression with cross-entropy: derive dL/dw_j and the SGD update, then one step on an "
        "example: h(x), loss, gradient, new weights, did the loss go down (seed 003 Q1).")),
    "mlp-backprop": Entry("mlp_backprop", (
        "Dense network, one data point: draw it, shapes, forward pass, class, loss, chain-rule factors and "
        "derivatives of two weights, updated weights, parameter counts (seeds 000, 001 §3).")),
    "regression-mlp": Entry("regression_mlp", (
        "Regression network (one sigmoid hidden unit, linear output, MSE): derive the four gradients by the "
        "chain rule, then forward pass, loss, gradients and one step with alpha on 1-3 points (seed 004).")),
    "softmax-classifier": Entry("softmax_classifier", (
        "Softmax output with cross-entropy, 2-4 classes, one-hot target: logits, probabilities, class, loss, "
        "softmax Jacobian or delta = p - y, output weight and bias gradients, a hidden weight, update.")),
}


def _load(name: str) -> Family:
    """Import the module of family `name` (once: Python keeps it) and check it against its index line."""
    entry = INDEX[name]
    family = importlib.import_module(f"{__name__}.{entry.module}").FAMILY
    if family.name != name or family.summary != entry.summary:
        raise RuntimeError(f"qgen.families.INDEX[{name!r}] does not match {entry.module}.FAMILY "
                           f"({family.name!r}): copy its name and summary into the index")
    return family


_checked = False


def _check_modules() -> None:
    """Every module here that defines FAMILY has its line in INDEX (a new family without one is a bug)."""
    global _checked
    if _checked:
        return
    indexed = {entry.module for entry in INDEX.values()}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        family = getattr(module, "FAMILY", None)
        if family is not None and info.name not in indexed:
            raise RuntimeError(f"qgen.families.{info.name} defines family {family.name!r} but INDEX has no line "
                               "for it: add one")
    _checked = True


class _Registry(Mapping):
    """Family name -> Family, importing a family's module only when that family is looked up.

    Its keys (and `len`, `in`) come from INDEX and the course families loaded so far, so listing
    names costs nothing; `values()` and `items()` need every family, so they load them all, in the
    index's order, checking the modules.
    """

    def __getitem__(self, name: str) -> Family:
        if name in INDEX:
            return _load(name)
        return course.loaded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*INDEX, *course.loaded()])

    def __len__(self) -> int:
        return len(INDEX) + len(course.loaded())

    def __contains__(self, name: object) -> bool:
        return name in INDEX or name in course.loaded()

    def values(self):  # type: ignore[override]
        _check_modules()
        return super().values()

    def items(self):  # type: ignore[override]
        _check_modules()
        return super().items()


FAMILIES: Mapping[str, Family] = _Registry()


def summary(name: str) -> str:
    """A family's one-line description, without importing qgen's own (for `qgen list`)."""
    return INDEX[name].summary if name in INDEX else FAMILIES[name].summary


def get(name: str) -> Family:
    """The family called `name` (qgen's, a loaded course family, or an installed one); an unknown name is an
    error listing the known ones."""
    if name in INDEX:
        return _load(name)
    family = course.loaded().get(name) or course.load_entry_point(name, INDEX)
    if family is None:
        raise FamilyError(f"unknown family {name!r}; known families: {', '.join(sorted(FAMILIES))} "
                          "(see `qgen list`; a course's own family is loaded by its bank's `families:` list)")
    return family
