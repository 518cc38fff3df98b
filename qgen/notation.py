"""Notation profiles: how an exam writes the quantities of a network. Only rendering uses them.

Every Trace node carries a notation-free `Sym` (what it is: the pre-activation of unit 2 of
layer 1, the derivative of the loss by ŷ). A `Notation` turns a Sym into LaTeX in a course's
own convention: seed 000 writes α¹₂ and W²₁₁ with the bias in row 0 and Wᵀx (`bias-row`),
seed 001 writes a₂ and W₂,₁,₁ with the bias in column 0 and W·x (`bias-column`), and the
common textbook form keeps W and b apart (`separate-bias`).

>>> bias_row = PROFILES["bias-row"]
>>> bias_row.symbol(Sym("W", layer=1, index=(1, 2)))
'W^{1}_{21}'
>>> PROFILES["bias-column"].symbol(Sym("W", layer=1, index=(1, 2)))
'W_{1,1,2}'
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

from qgen.errors import BankError


@dataclass(frozen=True)
class Sym:
    """What a quantity is, independent of notation.

    name: x, y, W, b, z (pre-activation), a (activation), loss, objective, lr, d (a derivative
    `of` by `wrt`) or new (the updated value `of` a parameter). Layers count from 1 (the first
    weight layer); unit indices count from 1 and bias features are index 0.
    """

    name: str
    layer: int | None = None
    index: tuple[int, ...] = ()
    point: int | None = None
    of: "Sym | None" = None
    wrt: "Sym | None" = None


@dataclass(frozen=True)
class Notation:
    """A course's way of writing a dense network; see PROFILES."""

    name: str
    bias: str  # row | column | separate
    pre: str  # letter of a hidden pre-activation
    post: str  # letter of a hidden activation
    out_pre: str  # letter of the output pre-activation
    out_post: str  # letter of the output
    weight: str = "W"
    bias_letter: str = "b"
    layer_style: str = "super"  # super: α^{1}, sub: W_{1}, paren: z^{(1)}
    hidden_layer_marks: str = "always"  # always | deep (only when there are several hidden layers)
    index_base: int = 1
    lr: str = r"\eta"
    d: str = r"\partial"
    loss: str = r"\ell"
    objective: str = "J"
    input: str = "x"
    target: str = "y"
    layers: int = field(default=2, compare=False)  # weight layers of the network being written
    out_width: int = field(default=1, compare=False)  # outputs of that network (1 drops ŷ's index)

    def for_network(self, widths: list[int]) -> "Notation":
        """The same profile, told the widths of the network it writes (input first)."""
        return replace(self, layers=len(widths) - 1, out_width=widths[-1])

    # -- symbols -------------------------------------------------------------------------
    def unit(self, i: int) -> int:
        """The printed index of unit i (1-based in the Trace)."""
        return i - 1 + self.index_base

    def feature(self, j: int) -> int:
        """The printed index of input feature j: folded-bias notations keep 0 for the bias."""
        return j if self.bias != "separate" else self.unit(j)

    def _mark(self, letter: str, layer: int, sub: str | None = None) -> str:
        if self.layer_style == "sub":
            return f"{letter}_{{{layer},{sub}}}" if sub else f"{letter}_{{{layer}}}"
        mark = f"^{{{layer}}}" if self.layer_style == "super" else f"^{{({layer})}}"
        return f"{letter}{mark}" + (f"_{{{sub}}}" if sub else "")

    def _letter(self, kind: str, layer: int) -> tuple[str, bool]:
        """The letter of a layer's pre-activations (z) or activations (a), and whether it needs a layer mark."""
        if layer == self.layers:
            letter = self.out_pre if kind == "z" else self.out_post
            hidden = self.pre if kind == "z" else self.post
            return letter, letter == hidden
        marked = self.hidden_layer_marks == "always" or self.layers > 2
        return (self.pre if kind == "z" else self.post), marked

    def _neuron(self, kind: str, layer: int, i: int | None) -> str:
        letter, marked = self._letter(kind, layer)
        sub = None if i is None else str(self.unit(i))
        if marked:
            return self._mark(letter, layer, sub)
        return letter if sub is None else f"{letter}_{{{sub}}}"

    def symbol(self, s: Sym) -> str:
        """LaTeX (math mode, no $) for the quantity `s`."""
        text = self._symbol(s)
        if s.point is not None:
            text = f"{{{text}}}^{{({s.point})}}"
        return text

    def _symbol(self, s: Sym) -> str:
        n = s.name
        if n == "d":
            return rf"\frac{{{self.d} {self.symbol(s.of)}}}{{{self.d} {self.symbol(s.wrt)}}}"
        if n == "new":
            return f"{{{self.symbol(s.of)}}}'"
        simple = {"lr": self.lr, "loss": self.loss, "objective": self.objective}
        if n in simple:
            return simple[n]
        if n == "x":
            return f"{self.input}_{{{self.feature(s.index[0])}}}"
        if n == "y":
            return self.target if self.out_width == 1 else f"{self.target}_{{{self.unit(s.index[0])}}}"
        if n in ("W", "b"):
            return self._parameter(s)
        if n in ("z", "a"):
            output = s.layer == self.layers
            return self._neuron(n, s.layer, None if output and self.out_width == 1 else s.index[0])
        raise ValueError(f"no symbol for {s!r}")

    def _parameter(self, s: Sym) -> str:
        i = self.unit(s.index[0])
        j = 0 if s.name == "b" else self.feature(s.index[1])
        if self.bias == "row":
            return f"{self.weight}^{{{s.layer}}}_{{{j}{i}}}"
        if self.bias == "column":
            return f"{self.weight}_{{{s.layer},{i},{j}}}"
        if s.name == "b":
            return self._mark(self.bias_letter, s.layer, str(i))
        return self._mark(self.weight, s.layer, f"{i}{j}")

    # -- matrices as the exam shows them ------------------------------------------------
    def matrix_symbol(self, layer: int) -> str:
        """The symbol of a layer's weight matrix (W^{1}, W_{1}, W^{(1)})."""
        return self._mark(self.weight, layer)

    def bias_symbol(self, layer: int) -> str:
        """The symbol of a layer's bias vector when biases are separate."""
        return rf"\boldsymbol{{{self._mark(self.bias_letter, layer)}}}"

    def weight_shape(self, n_out: int, n_in: int) -> tuple[int, int]:
        """Shape of the matrix this notation writes for a layer with the given widths."""
        if self.bias == "row":
            return (n_in + 1, n_out)
        if self.bias == "column":
            return (n_out, n_in + 1)
        return (n_out, n_in)

    def weight_matrix(self, W: list[list[Any]], b: list[Any]) -> list[list[Any]]:
        """The entries of the matrix this notation writes, from the canonical W (n_out×n_in) and b."""
        if self.bias == "row":
            return [list(b)] + [list(col) for col in zip(*W)]
        if self.bias == "column":
            return [[bi] + list(row) for bi, row in zip(b, W)]
        return [list(row) for row in W]

    def forward_rule(self, layer: int) -> str:
        """How the exam states the affine map of a layer, e.g. α^{1} = (W^{1})^T [1; x]."""
        w = self.matrix_symbol(layer)
        prev = rf"\boldsymbol{{{self.input}}}" if layer == 1 else self.vector_symbol("a", layer - 1)
        pre = self.vector_symbol("z", layer)
        if self.bias == "row":
            return rf"{pre} = ({w})^{{\mathsf T}} \begin{{bmatrix}} 1 \\ {prev} \end{{bmatrix}}"
        if self.bias == "column":
            return rf"{pre} = {w} \begin{{bmatrix}} 1 \\ {prev} \end{{bmatrix}}"
        return rf"{pre} = {w}\,{prev} + {self.bias_symbol(layer)}"

    def vector_symbol(self, kind: str, layer: int) -> str:
        """The symbol of a whole layer's pre-activations ('z') or activations ('a'), in bold."""
        return rf"\boldsymbol{{{self._neuron(kind, layer, None)}}}"


PROFILES: dict[str, Notation] = {
    "bias-row": Notation(
        name="bias-row", bias="row", pre=r"\alpha", post=r"\beta", out_pre=r"\alpha", out_post=r"\hat{y}",
        layer_style="super", hidden_layer_marks="always", lr=r"\lambda", d="d", objective=r"\ell",
    ),
    "bias-column": Notation(
        name="bias-column", bias="column", pre="a", post="z", out_pre="b", out_post=r"\hat{y}",
        layer_style="sub", hidden_layer_marks="deep", lr=r"\eta", d=r"\partial", objective="J",
    ),
    "separate-bias": Notation(
        name="separate-bias", bias="separate", pre="z", post="a", out_pre="z", out_post=r"\hat{y}",
        layer_style="paren", hidden_layer_marks="always", lr=r"\eta", d=r"\partial", objective="J",
    ),
}

_OVERRIDABLE = {f.name for f in fields(Notation)} - {"name", "bias", "layers"}


def resolve(spec: str | Mapping[str, Any] | None, *, where: str = "notation") -> Notation:
    """A profile by name, or a mapping {profile: NAME, <symbol>: <LaTeX>, ...} overriding single symbols."""
    if spec is None:
        return PROFILES["bias-column"]
    if isinstance(spec, str):
        spec = {"profile": spec}
    if not isinstance(spec, Mapping):
        raise BankError(f"{where}: expected a profile name or a mapping, got {spec!r}")
    name = spec.get("profile", "bias-column")
    if name not in PROFILES:
        raise BankError(f"{where}: unknown notation profile {name!r}; choose one of {', '.join(PROFILES)}")
    overrides = {k: v for k, v in spec.items() if k != "profile"}
    unknown = sorted(set(overrides) - _OVERRIDABLE)
    if unknown:
        raise BankError(f"{where}: unknown notation key(s) {', '.join(unknown)}; known: {', '.join(sorted(_OVERRIDABLE))}")
    if "index_base" in overrides and overrides["index_base"] not in (0, 1):
        raise BankError(f"{where}.index_base: must be 0 or 1, got {overrides['index_base']!r}")
    for key, value in overrides.items():
        if key != "index_base" and not isinstance(value, str):
            raise BankError(f"{where}.{key}: expected LaTeX text, got {value!r}")
    return replace(PROFILES[name], **overrides)
