"""The statement and the parts of weight decay, momentum, Adam and a second iteration (network families).

`statement` is the paragraph an exam states (λ and which parameters it decays, the optimiser's
rule with its hyper-parameters and ε, the starting state, the number of steps); `parts` asks
every intermediate quantity of one step (`qgen.nn.iterations`) for groups of parameters:
penalty, regularised objective and gradient, optimiser state, update, and for step 2 the
objective and gradient at the updated parameters first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from qgen import numeric
from qgen.families.base import Part, number_part
from qgen.nn import iterations as it
from qgen.nn.network import Network
from qgen.notation import Notation, Sym
from qgen.trace import Trace

STATE_NAMES = {"momentum": (("v", "velocity"),),
               "adam": (("m", "first moment"), ("v", "second moment"), ("mhat", "bias-corrected first moment"),
                        ("vhat", "bias-corrected second moment"))}  # Adam's asked as one part: m, v, m̂, v̂


def number_tex(v: Fraction) -> str:
    """A hyper-parameter as an exam writes it: 0.9, 0.999, 10^{-8}."""
    if v > 0 and v.numerator == 1 and v.denominator > 1000 and str(v.denominator).strip("0") == "1":
        return f"10^{{-{len(str(v.denominator)) - 1}}}"
    return numeric.decimal_str(v)


def significant_places(values: Sequence[numeric.Value], places: int) -> int:
    """`places`, or more (up to 10) so that the smallest nonzero value shows two significant digits (Adam's v is tiny)."""
    x = min((abs(numeric.to_float(v)) for v in values if numeric.to_float(v)), default=0.0)
    return max(places, min(10, 1 - math.floor(math.log10(x)))) if x else places


def statement(net: Network, nt: Notation) -> str:
    """The paragraph (LaTeX, text mode) that states the regularisation, the optimiser and the steps; '' if plain."""
    if net.plain:
        return ""
    J, eta = nt.symbol(Sym("objective")), nt.lr
    reg, g = nt.symbol(Sym("regularised")), "g"
    out = []
    if net.weight_decay:
        which = "every weight and bias" if net.decay_biases else "the weights only (biases are not decayed)"
        out.append(rf"The objective has L2 weight decay: ${reg} = {J} + {nt.penalty}$ with "
                   rf"${nt.penalty} = \frac{{{nt.decay}}}{{2}} \sum w^{{2}}$ over {which}, and "
                   rf"${nt.decay} = {number_tex(net.weight_decay)}$; so each decayed parameter's gradient gains "
                   rf"${nt.decay}\,w$. Below, $g$ is the gradient of ${reg}$.")
        J = reg
    else:
        out.append(rf"Below, $g$ is the gradient of ${J}$ by a parameter.")
    opt = net.optimizer
    if opt.name == "sgd":
        out.append(rf"Each step is plain gradient descent, $w \leftarrow w - {eta}\,{g}$.")
    elif opt.name == "momentum":
        mu = nt.momentum
        out.append(rf"The optimiser is gradient descent with momentum ${mu} = {number_tex(opt.momentum)}$: for every "
                   rf"parameter, $v_{{t}} = {mu}\,v_{{t-1}} + {g}_{{t}}$ and $w_{{t}} = w_{{t-1}} - {eta}\,v_{{t}}$, "
                   r"starting from $v_{0} = 0$.")
    else:
        b1, b2, eps = nt.beta1, nt.beta2, nt.epsilon
        out.append(rf"The optimiser is Adam with ${b1} = {number_tex(opt.beta1)}$, ${b2} = {number_tex(opt.beta2)}$ "
                   rf"and ${eps} = {number_tex(opt.epsilon)}$: for every parameter, "
                   rf"$m_{{t}} = {b1}\,m_{{t-1}} + (1 - {b1})\,{g}_{{t}}$, "
                   rf"$v_{{t}} = {b2}\,v_{{t-1}} + (1 - {b2})\,{g}_{{t}}^{{2}}$, "
                   rf"$\hat{{m}}_{{t}} = m_{{t}} / (1 - {b1}^{{t}})$, $\hat{{v}}_{{t}} = v_{{t}} / (1 - {b2}^{{t}})$ and "
                   rf"$w_{{t}} = w_{{t-1}} - {eta}\,\hat{{m}}_{{t}} / (\sqrt{{\hat{{v}}_{{t}}}} + {eps})$, "
                   r"starting from $m_{0} = v_{0} = 0$.")
    if net.steps == 2:
        out.append(r"Take two steps: the second recomputes the forward pass and the gradient at the parameters after "
                   r"the first, and carries the optimiser's state. A prime marks a quantity at the parameters after "
                   r"one step ($w'$), two primes after two ($w''$); the subscript of a state is its step $t$.")
    return " ".join(out)


def parts(net: Network, t: Trace, nt: Notation, places: int, keys: Sequence[str], step: int) -> list[Part]:
    """The parts of step `step` (1 or 2) for the parameters `keys` (few parts: an exam numbers at most 26)."""
    k = step - 1
    out: list[Part] = []
    section = "Weight decay and optimiser step" if step == 1 else "Second iteration"
    after = "" if step == 1 else " at the parameters after the first step"
    tag = "" if step == 1 else ".2"

    def sym(key: str) -> str:
        return t.symbol(key, nt)

    def listed(names: list[str]) -> str:
        shown = [f"${sym(x)}$" for x in names]
        return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]

    def add(id: str, prompt: str, asked: list[str], worked: list[str] | None = None, points: float = 1) -> None:
        shown = significant_places([t[x] for x in asked], places)
        if worked is None and shown != places:
            worked = [t.explain(x, nt, shown) for x in asked]
        out.append(number_part(t, nt, id=id, prompt=prompt, keys=asked, places=shown, section=section,
                               worked=worked, points=points))

    if step == 2:
        forward = [q.key for q in t if q.key.endswith(it.SUFFIXES[1]) or it.SUFFIXES[1] + "@" in q.key]
        lines = [t.explain(x, nt, places) for x in forward if t.quantity(x).role in ("forward", "loss")]
        add("objective.2", f"Compute the objective ${sym(it.objective_key(net, 1))}$ again{after}.",
            [it.objective_key(net, 1)], lines, points=2)
    elif net.weight_decay:
        add("objective.reg", f"What are the weight-decay term ${sym('penalty')}$ and the regularised objective "
            f"${sym('Jreg')}$?", ["penalty", "Jreg"])
    grads = [it.gradient_key(net, w, k) for w in keys]
    if step == 2 or net.weight_decay:
        worked = None
        if step == 2:  # the chain of the data gradient at the new parameters, then the decay term
            data = [it.at(f"dJ_d{w}", 1) for w in keys]
            worked = [t.explain(x, nt, places) for x in dict.fromkeys(data + grads)]
        add(f"grad.reg{tag}", f"What is the gradient {listed(grads)}{after}?", grads, worked, points=2)
    state = [it.state_key(name, w, step) for name, _ in STATE_NAMES.get(net.optimizer.name, ()) for w in keys]
    if state:
        words = " and ".join(words for _, words in STATE_NAMES[net.optimizer.name][:2])
        add(f"state{tag}", f"What is the optimiser's state after step {step} ({words}): {listed(state)}?", state,
            points=2)
    new = [it.param(w, step) for w in keys]
    worked = [t.explain(x, nt, places) for x in new]
    if net.optimizer.name == "adam" and step == 1:
        worked.append(r"\text{Adam's first step is about } " + nt.lr + r" \cdot \operatorname{sign}(g)"
                      r"\text{: } \hat{m}_{1} / \sqrt{\hat{v}_{1}} = g / |g|")
    add(f"update{tag}", f"What is {listed(new)} after step {step}?", new, worked, points=2)
    return out


def all_updates(net: Network, t: Trace, nt: Notation, places: int) -> Part:
    """Every parameter after the first step (a second iteration needs all of them)."""
    keys = [it.param(w, 1) for w in it.parameters(net)]
    return number_part(t, nt, id="update.all", prompt="Before the second iteration, update every parameter: what "
                       "are " + ", ".join(f"${t.symbol(x, nt)}$" for x in keys) + " after step 1?", keys=keys,
                       places=places, section="Weight decay and optimiser step", points=2)


def every_step(net: Network, t: Trace, nt: Notation, places: int, keys: Sequence[str]) -> list[Part]:
    """The parts of every step for the parameters `keys`; before a second step, every parameter's update
    after the first (step 2 needs them all) unless `keys` are all the parameters already."""
    out = parts(net, t, nt, places, keys, 1)
    if net.steps == 2:
        if set(keys) != set(it.parameters(net)):
            out.append(all_updates(net, t, nt, places))
        out += parts(net, t, nt, places, keys, 2)
    return out
