"""Notation profiles: how an exam writes the quantities of a network. Only rendering uses them.

Every Trace node carries a notation-free `Sym` (what it is: the pre-activation of unit 2 of
layer 1, the derivative of the loss by ŷ). A `Notation` turns a Sym into LaTeX in a course's
own convention: seed 000 writes α¹₂ and W²₁₁ with the bias in row 0 and Wᵀx (`bias-row`),
seed 001 writes a₂ and W₂,₁,₁ with the bias in column 0 and W·x (`bias-column`), the
common textbook form keeps W and b apart (`separate-bias`), seed 002 numbers every parameter
of θ = (w₀, …, w₄) and writes a data point's quantities as functions of it, z(x₁), L(x₁, y₁)
(`theta`), and seed 004 writes one unit per layer as w₁, b₁, z₁, a₁ (`scalar-layers`).

>>> bias_row = PROFILES["bias-row"]
>>> bias_row.symbol(Sym("W", layer=1, index=(1, 2)))
'W^{1}_{21}'
>>> PROFILES["bias-column"].symbol(Sym("W", layer=1, index=(1, 2)))
'W_{1,1,2}'
>>> theta = PROFILES["theta"].for_network([2, 1, 1])
>>> theta.symbol(Sym("b", layer=2, index=(1,))), theta.symbol(Sym("z", layer=1, index=(1,), point=2))
('w_{4}', 'z(x_{2})')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

from qgen.errors import BankError
from qgen.symbols import check_symbol


@dataclass(frozen=True)
class Sym:
    """What a quantity is, independent of notation.

    name: x, y, W, b, z (pre-activation), a (activation), loss, objective, lr, d (a derivative
    `of` by `wrt`), new (the updated value `of` a parameter), sumexp (a softmax's Σ_j exp(z_j), S),
    or an optimiser's constant or state (`_OPTIMISER`: decay, momentum, beta1, …, m, v, mhat, vhat).
    Layers count from 1 (the first weight layer); unit indices count from 1 and bias features are index 0.
    """

    name: str
    layer: int | None = None
    index: tuple[int, ...] = ()
    point: int | None = None
    of: "Sym | None" = None
    wrt: "Sym | None" = None


LITERAL = "tex:"  # a Sym named "tex:<LaTeX>" prints as that LaTeX in every notation


def literal(tex: str) -> Sym:
    """A Sym that every notation prints as the LaTeX `tex` (names a family owns, like r_{1} or (iii)).

    >>> PROFILES["bias-row"].symbol(literal("r_{1}"))
    'r_{1}'
    """
    return Sym(LITERAL + tex)


@dataclass(frozen=True)
class Notation:
    """A course's way of writing a dense network; see PROFILES.

    bias: row (Wᵀx, bias in row 0), column (W·x, bias in column 0), separate (W and b) or flat
    (every parameter is `weight` with one number, through the network layer by layer, each
    unit's input weights then its bias: seed 002's z = w₀x[0] + w₁x[1] + w₂, ŷ = w₃h + w₄).
    lone_index: write a unit's, feature's or weight's index even when its layer has only one
    (False: z, h, w₁, b₁ for a 1-1-1 network; needs `for_network`).
    point_style: how a quantity of data point p is marked: super, x^{(p)}; or argument, the
    data as x_p, y_p and what is computed from them as functions, z(x_p), L(x_p, y_p).
    input_index: a feature as x_{j} (sub) or x[j] (bracket).
    delta: when set (e.g. δ), the derivative of the loss by a hidden unit's pre-activation is
    δ named by the unit's activation (seed 002's δ_h = ∂L/∂z) and by the output δ_ŷ.
    overridden: the fields a bank set explicitly (see `explicit_or`).
    """

    name: str
    bias: str  # row | column | separate | flat
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
    lone_index: bool = True
    point_style: str = "super"  # super | argument
    input_index: str = "sub"  # sub | bracket
    delta: str = ""
    decay: str = r"\lambda"  # weight decay (qgen.nn.iterations); κ where the learning rate is λ
    momentum: str = r"\mu"
    beta1: str = r"\beta_{1}"  # Adam's decay rates; ρ₁, ρ₂ where β names the hidden activations
    beta2: str = r"\beta_{2}"
    epsilon: str = r"\epsilon"
    penalty: str = r"\Omega"  # the weight-decay term (λ/2)·Σw²
    layers: int = field(default=2, compare=False)  # weight layers of the network being written
    out_width: int = field(default=1, compare=False)  # outputs of that network (1 drops ŷ's index)
    widths: tuple[int, ...] = field(default=(), compare=False)  # its widths, input first
    overridden: frozenset[str] = field(default=frozenset(), compare=False)

    def explicit_or(self, name: str, own: str) -> str:
        """The bank's own value of field `name` if it set one, else a family's own symbol `own`.

        Families that follow their own document's names (logistic regression's L and w) keep
        them under any profile, but a symbol a bank overrides explicitly reaches them too.

        >>> explicit = resolve({"profile": "bias-row", "loss": "E"})
        >>> explicit.explicit_or("loss", "L"), PROFILES["bias-row"].explicit_or("loss", "L")
        ('E', 'L')
        """
        return getattr(self, name) if name in self.overridden else own

    def distinct_objective(self) -> "Notation":
        """The notation with an objective letter of its own where it would be the loss's letter.

        bias-row writes both ℓ (seed 000 has one example, whose objective is its loss); over a
        data set the loss of point i is ℓ⁽ⁱ⁾ and the objective becomes L (J when the loss is L),
        unless the bank set `objective` itself.

        >>> PROFILES["bias-row"].distinct_objective().objective, PROFILES["bias-column"].distinct_objective().objective
        ('L', 'J')
        """
        if self.objective != self.loss or "objective" in self.overridden or self.point_style != "super":
            return self
        return replace(self, objective="J" if self.loss == "L" else "L")

    def for_network(self, widths: list[int]) -> "Notation":
        """The same profile, told the widths of the network it writes (input first)."""
        return replace(self, layers=len(widths) - 1, out_width=widths[-1], widths=tuple(widths))

    # -- symbols -------------------------------------------------------------------------
    def unit(self, i: int) -> int:
        """The printed index of unit i (1-based in the Trace)."""
        return i - 1 + self.index_base

    def feature(self, j: int) -> int:
        """The printed index of input feature j: folded-bias notations keep 0 for the bias."""
        return j if self.bias in ("row", "column") else self.unit(j)

    def _lone(self, layer: int) -> bool:
        """Whether a layer's single unit (layer 0: the single input) is written without an index."""
        return not self.lone_index and layer < len(self.widths) and self.widths[layer] == 1

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
        sub = None if i is None or self._lone(layer) else str(self.unit(i))
        if marked:
            return self._mark(letter, layer, sub)
        return letter if sub is None else f"{letter}_{{{sub}}}"

    def symbol(self, s: Sym) -> str:
        """LaTeX (math mode, no $) for the quantity `s`."""
        if s.point is None:
            return self._symbol(s)
        if self.point_style == "super":
            base = self._symbol(s)
            marked = _LAYER_MARK.match(base) if s.name in ("z", "a") and self.layer_style != "sub" else None
            if marked:  # one superscript, layer then point: α^{1;(2)}_{1}, not α^{1}_{1} with ^{(2)} stacked on it
                head, layer, rest = marked.groups()
                return rf"{head}^{{{layer};\,({s.point})}}{rest}"
            return f"{{{base}}}^{{({s.point})}}"
        if s.name == "x":
            return self._feature(s.index[0], s.point)
        if s.name == "y":
            return self.point_target(s.point) if self.out_width == 1 else self._indexed(
                f"{self.target}_{{{s.point}}}", self.unit(s.index[0]))
        return f"{self._symbol(s)}{self._arguments(s)}"

    def _arguments(self, s: Sym) -> str:
        """(x_p) for what a network computes from point p, (x_p, y_p) for its loss (argument style)."""
        if s.name == "loss":
            return f"({self.point_input(s.point)}, {self.point_target(s.point)})"
        return f"({self.point_input(s.point)})"

    def point_input(self, p: int) -> str:
        """The input vector of data point p: x_{p} (argument style) or \\boldsymbol{x}^{(p)}."""
        if self.point_style == "argument":
            return f"{self.input}_{{{p}}}"
        return rf"\boldsymbol{{{self.input}}}^{{({p})}}"

    def point_target(self, p: int) -> str:
        """The target of data point p: y_{p} or y^{(p)} (bold when the network has several outputs)."""
        if self.point_style == "argument":
            return f"{self.target}_{{{p}}}"
        y = self.target if self.out_width == 1 else rf"\boldsymbol{{{self.target}}}"
        return f"{y}^{{({p})}}"

    def _indexed(self, base: str, idx: int) -> str:
        if self.input_index == "bracket":
            return f"{base}[{idx}]"
        return f"{base}_{{{idx}}}" if "_" not in base else f"{base[:-1]},{idx}}}"

    def _feature(self, j: int, point: int | None = None) -> str:
        """Input feature j (of point p): x_{1}, x[0], x_{2}[0], or x alone for a single input."""
        base = self.input if point is None else f"{self.input}_{{{point}}}"
        return base if self._lone(0) else self._indexed(base, self.feature(j))

    def _delta(self, s: Sym) -> str | None:
        """δ_h or δ_ŷ for a derivative of the loss, when this notation names them (see `delta`)."""
        wrt = s.wrt
        if not self.delta or s.of.name not in ("loss", "objective") or wrt.name not in ("z", "a"):
            return None
        output = wrt.layer == self.layers
        if (wrt.name == "z") == output:  # δ_h is by a hidden z; δ_ŷ by the output itself
            return None
        i = None if output and self.out_width == 1 else wrt.index[0]
        text = f"{self.delta}_{{{self._neuron('a', wrt.layer, i)}}}"
        p = s.of.point
        if p is None:
            return text
        if self.point_style == "argument":
            return text + self._arguments(s.of)
        return f"{{{text}}}^{{({p})}}"

    def retyped(self, cls: type["Notation"]) -> "Notation":
        """This profile's settings (η or λ, d or ∂, letters) in a subclass that names a family's own quantities."""
        return cls(**{f.name: getattr(self, f.name) for f in fields(Notation)})

    def _symbol(self, s: Sym) -> str:
        n = s.name
        if n.startswith(LITERAL):
            return n[len(LITERAL):]
        if n == "d":
            delta = self._delta(s)
            if delta is not None:
                return delta
            return rf"\frac{{{self.d} {self.symbol(s.of)}}}{{{self.d} {self.symbol(s.wrt)}}}"
        if n in _OPTIMISER:
            return self._optimiser(s)
        if n == "new" and s.of.name == "new":  # after two steps: W''
            return f"{self.symbol(s.of)}'"
        if n == "new":  # {}: TeX takes {{\hat{y}}^{(1)}} for the accent atom itself, and ' would be a 2nd superscript
            lead = "{}" if s.of.point is not None and self.point_style == "super" else ""
            return f"{{{lead}{self.symbol(s.of)}}}'"
        simple = {"lr": self.lr, "loss": self.loss, "objective": self.objective, "sumexp": "S"}  # S = Σ_j exp(z_j)
        if n in simple:
            return simple[n]
        if n == "x":
            return self._feature(s.index[0])
        if n == "y":
            return self.target if self.out_width == 1 else f"{self.target}_{{{self.unit(s.index[0])}}}"
        if n in ("W", "b"):
            return self._parameter(s)
        if n in ("z", "a"):
            output = s.layer == self.layers
            return self._neuron(n, s.layer, None if output and self.out_width == 1 else s.index[0])
        raise ValueError(f"no symbol for {s!r}")

    def _optimiser(self, s: Sym) -> str:
        """λ, μ, β₁, β₂, ε, the penalty Ω, J_reg, and optimiser state m_t(w), v_t(w), m̂_t(w), v̂_t(w)."""
        n = s.name
        if n in ("decay", "momentum", "beta1", "beta2", "epsilon", "penalty"):
            return getattr(self, n)
        if n == "regularised":
            return rf"{{{self.objective}}}_{{\mathrm{{reg}}}}"
        letter = {"velocity": "v", "m": "m", "v": "v", "mhat": r"\hat{m}", "vhat": r"\hat{v}"}[n]
        return rf"{letter}_{{{s.index[0]}}}\left({self.symbol(s.of)}\right)"

    def _parameter(self, s: Sym) -> str:
        if self.bias == "flat":
            return f"{self.weight}_{{{self.flat_index(s) + self.index_base}}}"
        i = self.unit(s.index[0])
        j = 0 if s.name == "b" else self.feature(s.index[1])
        if self.bias == "separate" and not self.lone_index:
            i = "" if self._lone(s.layer) else i
            j = "" if s.name == "W" and self._lone(s.layer - 1) else j
        if self.bias == "row":  # marked like the matrix: W^{1}_{21}, or W_{1,21} when layers are subscripts
            return self._mark(self.weight, s.layer, f"{j}{i}")
        if self.bias == "column":
            return self._mark(self.weight, s.layer, f"{i},{j}")
        if s.name == "b":
            return self._mark(self.bias_letter, s.layer, str(i) or None)
        return self._mark(self.weight, s.layer, f"{i}{j}" or None)

    def flat_index(self, s: Sym) -> int:
        """Position (from 0) of a weight or bias in θ: layer by layer, each unit's input weights then its bias.

        >>> PROFILES["theta"].for_network([2, 1, 1]).flat_index(Sym("W", layer=2, index=(1, 1)))
        3
        """
        if len(self.widths) <= s.layer:
            raise ValueError("numbering the parameters needs the network's widths (Notation.for_network)")
        before = sum(self.widths[k] * (self.widths[k - 1] + 1) for k in range(1, s.layer))
        n_in = self.widths[s.layer - 1]
        return before + (s.index[0] - 1) * (n_in + 1) + (n_in if s.name == "b" else s.index[1] - 1)

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
        if self.bias in ("column", "flat"):
            return (n_out, n_in + 1)
        return (n_out, n_in)

    def weight_matrix(self, W: list[list[Any]], b: list[Any]) -> list[list[Any]]:
        """The entries of the matrix this notation writes, from the canonical W (n_out×n_in) and b."""
        if self.bias == "row":
            return [list(b)] + [list(col) for col in zip(*W)]
        if self.bias == "column":
            return [[bi] + list(row) for bi, row in zip(b, W)]
        if self.bias == "flat":  # read row by row, the layer's parameters in θ's order
            return [list(row) + [bi] for bi, row in zip(b, W)]
        return [list(row) for row in W]

    def forward_rule(self, layer: int) -> str:
        """How the exam states the affine map of a layer, e.g. α^{1} = (W^{1})^T [1; x]."""
        if self.bias == "flat":  # one sum per unit, stacked when there are several
            rules = [self._unit_rule(layer, i) for i in range(1, self.widths[layer] + 1)]
            return rules[0] if len(rules) == 1 else r"\begin{gathered} " + r" \\ ".join(rules) + r" \end{gathered}"
        w = self.matrix_symbol(layer)
        prev = rf"\boldsymbol{{{self.input}}}" if layer == 1 else self.vector_symbol("a", layer - 1)
        pre = self.vector_symbol("z", layer)
        if self.bias == "row":
            return rf"{pre} = ({w})^{{\mathsf T}} \begin{{bmatrix}} 1 \\ {prev} \end{{bmatrix}}"
        if self.bias == "column":
            return rf"{pre} = {w} \begin{{bmatrix}} 1 \\ {prev} \end{{bmatrix}}"
        return rf"{pre} = {w}\,{prev} + {self.bias_symbol(layer)}"

    def _unit_rule(self, layer: int, i: int) -> str:
        """One unit's weighted sum, weights first and bias last: z = w_{0} x[0] + w_{1} x[1] + w_{2}."""
        n_in = self.widths[layer - 1]
        inputs = [self._feature(j) if layer == 1 else self._neuron("a", layer - 1, j) for j in range(1, n_in + 1)]
        terms = [f"{self.symbol(Sym('W', layer, (i, j)))} {a}" for j, a in enumerate(inputs, start=1)]
        pre = self._neuron("z", layer, None if layer == self.layers and self.out_width == 1 else i)
        return f"{pre} = " + " + ".join(terms + [self.symbol(Sym("b", layer, (i,)))])

    def vector_symbol(self, kind: str, layer: int) -> str:
        """The symbol of a whole layer's pre-activations ('z') or activations ('a'), in bold."""
        return rf"\boldsymbol{{{self._neuron(kind, layer, None)}}}"


_LAYER_MARK = re.compile(r"^([^^{}]*(?:\{[^{}]*\})?)\^\{(\(?\d+\)?)\}(.*)$")  # \alpha^{1}_{1}: letter, layer, rest

PROFILES: dict[str, Notation] = {
    "bias-row": Notation(
        name="bias-row", bias="row", pre=r"\alpha", post=r"\beta", out_pre=r"\alpha", out_post=r"\hat{y}",
        layer_style="super", hidden_layer_marks="always", lr=r"\lambda", d="d", objective=r"\ell",
        decay=r"\kappa", beta1=r"\rho_{1}", beta2=r"\rho_{2}",
    ),
    "bias-column": Notation(
        name="bias-column", bias="column", pre="a", post="z", out_pre="b", out_post=r"\hat{y}",
        layer_style="sub", hidden_layer_marks="deep", lr=r"\eta", d=r"\partial", objective="J",
    ),
    "separate-bias": Notation(
        name="separate-bias", bias="separate", pre="z", post="a", out_pre="z", out_post=r"\hat{y}",
        layer_style="paren", hidden_layer_marks="always", lr=r"\eta", d=r"\partial", objective="J",
    ),
    "theta": Notation(
        name="theta", bias="flat", pre="z", post="h", out_pre="z", out_post=r"\hat{y}", weight="w",
        layer_style="paren", hidden_layer_marks="deep", index_base=0, lr=r"\eta", d=r"\partial", loss="L",
        objective="L(D)", lone_index=False, point_style="argument", input_index="bracket", delta=r"\delta",
    ),
    "scalar-layers": Notation(
        name="scalar-layers", bias="separate", pre="z", post="a", out_pre="z", out_post="a", weight="w",
        layer_style="sub", hidden_layer_marks="always", lr=r"\alpha", d=r"\partial", loss="L", objective="L",
        lone_index=False,
    ),
}

_OPTIMISER = frozenset({"decay", "momentum", "beta1", "beta2", "epsilon", "penalty", "regularised", "velocity", "m",
                        "v", "mhat", "vhat"})
_OVERRIDABLE = {f.name for f in fields(Notation)} - {"name", "layers", "out_width", "widths", "overridden"}
_CHOICES = {"bias": ("row", "column", "separate", "flat"), "layer_style": ("super", "sub", "paren"),
            "hidden_layer_marks": ("always", "deep"), "point_style": ("super", "argument"),
            "input_index": ("sub", "bracket")}
_FOLLOWERS = (("pre", "out_pre"), ("post", "out_post"))  # an output letter the profile shares with its hidden one


def _check(key: str, value: Any, where: str) -> None:
    """A BankError naming `where` unless `value` suits the field `key`."""
    if key == "index_base":
        if isinstance(value, bool) or value not in (0, 1):
            raise BankError(f"{where}: must be 0 or 1, got {value!r}")
    elif key == "lone_index":
        if not isinstance(value, bool):
            raise BankError(f"{where}: expected true or false, got {value!r}")
    elif key in _CHOICES:
        if value not in _CHOICES[key]:
            raise BankError(f"{where}: {value!r} is not one of {', '.join(_CHOICES[key])}")
    elif not isinstance(value, str) or not (value.strip() or key == "delta"):  # delta: '' names no δ terms
        raise BankError(f"{where}: expected LaTeX text, got {value!r}")
    else:
        check_symbol(value, where)


def resolve(spec: str | Mapping[str, Any] | None, *, where: str = "notation") -> Notation:
    """A profile by name, or a mapping {profile: NAME, <field>: <value>, ...} overriding single fields.

    Text fields take LaTeX; `bias`, `layer_style`, … one of their choices; `index_base` 0 or 1;
    `lone_index` true or false. Renaming the hidden `pre`/`post` letter renames the output's
    too where the profile writes both with one letter (separate-bias: z¹ and z²).

    >>> nt = resolve({"profile": "separate-bias", "pre": "A", "bias": "row"})
    >>> nt.bias, nt.out_pre
    ('row', 'A')
    """
    if spec is None:
        return PROFILES["bias-column"]
    if isinstance(spec, str):
        spec = {"profile": spec}
    if not isinstance(spec, Mapping):
        raise BankError(f"{where}: expected a profile name or a mapping, got {spec!r}")
    name = spec.get("profile", "bias-column")
    if not isinstance(name, str) or name not in PROFILES:
        raise BankError(f"{where}: unknown notation profile {name!r}; choose one of {', '.join(PROFILES)}")
    overrides = {k: v for k, v in spec.items() if k != "profile"}
    unknown = sorted(str(k) for k in overrides if k not in _OVERRIDABLE)
    if unknown:
        known = ", ".join(sorted(_OVERRIDABLE))
        raise BankError(f"{where}: unknown notation key(s) {', '.join(unknown)}; known: {known}")
    for key, value in overrides.items():
        _check(key, value, f"{where}.{key}")
    base = PROFILES[name]
    for hidden, out in _FOLLOWERS:
        if hidden in overrides and out not in overrides and getattr(base, out) == getattr(base, hidden):
            overrides[out] = overrides[hidden]
    explicit = frozenset(overrides)
    for key, other in (("decay", r"\kappa"), ("momentum", r"\gamma")):  # a bank's own η letter may be λ or μ
        if key not in overrides and overrides.get("lr") == getattr(base, key):
            overrides[key] = other
    nt = replace(base, **overrides, overridden=explicit)
    _check_distinct(nt, where)
    return nt


_LETTERS = ("pre", "post", "out_pre", "out_post", "weight", "bias_letter", "input", "target")
_RATES = ("lr", "decay", "momentum", "beta1", "beta2", "epsilon", "penalty")  # the step's constants and Ω
_SHARED = {("pre", "out_pre"), ("post", "out_post")}  # one letter, told apart by the layer mark


def _check_distinct(nt: Notation, where: str) -> None:
    """A BankError naming both keys when two different quantities would print with one letter."""
    letters = [k for k in _LETTERS if k != "bias_letter" or nt.bias == "separate"]
    for keys in (letters, _RATES):
        for n, first in enumerate(keys):
            for second in keys[n + 1:]:
                if getattr(nt, first) == getattr(nt, second) and (first, second) not in _SHARED:
                    raise BankError(f"{where}: {first} and {second} are both written {getattr(nt, first)!r}; "
                                    f"set {where}.{first} or {where}.{second} to tell them apart")
