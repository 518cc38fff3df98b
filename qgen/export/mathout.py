"""Math of a converted text as HTML: LaTeX kept for an LMS's MathJax, or MathML for pages that must
work offline (feedback pages: latex2mathml, pure Python), or plain text when neither can be made."""

from __future__ import annotations

import functools
import html
import re


def math_markup(tex: str, *, display: bool, mode: str = "mathjax") -> str:
    """Math kept as LaTeX for MathJax, HTML-escaped (MathJax reads the text, so &lt; is <), or MathML."""
    if mode == "mathml":
        return _mathml(tex.strip(), display)
    body = html.escape(tex.strip(), quote=False)
    return f"$${body}$$" if display else f"\\({body}\\)"


# LaTeX that latex2mathml does not know, rewritten first (spacing and sizing it has no use for)
_MATHML_PRE = ((re.compile(r"\\(?:displaystyle|textstyle|scriptstyle|strut|nonumber|notag|allowbreak)\b"), ""),
               (re.compile(r"\\(?:big|Big|bigg|Bigg)[lrm]?(?![A-Za-z])"), ""),
               (re.compile(r"\\(?:boxed)(?![A-Za-z])"), ""),
               (re.compile(r"\\(?:dfrac|tfrac)(?![A-Za-z])"), r"\\frac"),
               (re.compile(r"\\ensuremath(?![A-Za-z])"), ""),
               (re.compile(r"\\(?:textrm|textnormal|textup|mbox)(?![A-Za-z])"), r"\\text"),
               (re.compile(r"\\textbf(?![A-Za-z])"), r"\\mathbf"),
               (re.compile(r"\\(?:textit|emph)(?![A-Za-z])"), r"\\mathit"))


@functools.lru_cache(maxsize=8192)
def _mathml(tex: str, display: bool) -> str:
    """LaTeX math -> a <math> element (latex2mathml); LaTeX it cannot read -> readable plain text."""
    from latex2mathml.converter import convert

    src = tex
    for pattern, repl in _MATHML_PRE:
        src = pattern.sub(repl, src)
    try:
        out = convert(src, display="block" if display else "inline")
    except Exception:  # noqa: BLE001  (latex2mathml raises its own and plain errors on LaTeX it cannot read)
        return f'<span class="math">{html.escape(_plain_math(tex), quote=False)}</span>'
    if "\\" in re.sub(r"<[^>]*>", "", out):  # a command it passed through as text
        return f'<span class="math">{html.escape(_plain_math(tex), quote=False)}</span>'
    return out.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "")  # HTML needs no namespace (no URL)


_PLAIN_SYMBOLS = {"partial": "∂", "nabla": "∇", "sigma": "σ", "eta": "η", "lambda": "λ",
                  "alpha": "α", "beta": "β", "ell": "ℓ", "cdot": "·", "theta": "θ", "delta": "δ", "times": "×",
                  "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "neq": "≠", "approx": "≈", "in": "∈",
                  "infty": "∞", "sum": "∑", "top": "ᵀ", "odot": "⊙", "to": "→", "mu": "μ", "gamma": "γ",
                  "epsilon": "ε", "varepsilon": "ε", "pi": "π", "tanh": "tanh", "exp": "exp", "ln": "ln",
                  "log": "log", "max": "max", "min": "min"}


def _plain_math(tex: str) -> str:
    r"""Math as plain text when no MathML can be made: \frac{a}{b} -> (a)/(b), symbols as characters, no \.

    >>> _plain_math(r"\frac{\partial J}{\partial W_{2}}")
    '(∂ J)/(∂ W_2)'
    """
    out = re.sub(r"\\hat\{y\}", "ŷ", tex)
    for _ in range(20):  # nested groups, innermost first
        new = re.sub(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", out)
        new = re.sub(r"([_^])\{([^{}]*)\}", lambda m: m.group(1) + (m.group(2) if len(m.group(2)) < 2
                                                                        else f"({m.group(2)})"), new)
        new = re.sub(r"\\(?:mathbf|boldsymbol|mathrm|mathit|text|operatorname|hat|bar|tilde|vec)\{([^{}]*)\}",
                     r"\1", new)
        if new == out:
            break
        out = new
    out = re.sub(r"\\([A-Za-z]+)", lambda m: _PLAIN_SYMBOLS.get(m.group(1), ""), out)
    out = re.sub(r"\\.", " ", out)
    out = out.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", out).strip()
