"""What a notation field may write: a math symbol, not a LaTeX program.

A bank's notation fields (`lr: '\\eta'`, `post: '\\beta'`) are typeset as they are, so they are
checked: letters, digits, sub/superscripts, braces, parentheses, primes and a whitelist of math
commands (`MATH_COMMANDS`), at most 40 characters. Anything else (`\\input{/etc/passwd}`,
`\\def`, `$`) is a BankError naming the key, so a bank cannot make LaTeX read a file or redefine
the exam.
"""

from __future__ import annotations

import re

from qgen.errors import BankError

# What a notation field may write: a symbol, not a program. Letters, digits, sub/superscripts,
# braces, parentheses, primes and these math commands; anything else (\input, \def, \catcode, …)
# is refused, so a bank cannot make LaTeX read a file or redefine the exam.
MATH_COMMANDS = frozenset({
    *"alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi rho "
     "varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi "
     "Psi Omega".split(),
    "ell", "partial", "nabla", "hat", "tilde", "bar", "vec", "dot", "check", "breve", "widehat", "widetilde",
    "boldsymbol", "mathbf", "mathrm", "mathit", "mathcal", "mathsf", "mathtt", "mathbb", "operatorname",
    "prime", "star", "ast", "circ", "cdot", ",", ";", "!", " ",
})
_SYMBOL = re.compile(r"(?:[A-Za-z0-9_^{}()\[\]'*+\-=.,:| ]|\\[A-Za-z]+|\\[,;! ])*")
MAX_SYMBOL = 40


def check_symbol(value: str, where: str) -> None:
    """A BankError naming `where` unless `value` is a plain math symbol (see MATH_COMMANDS)."""
    if len(value) > MAX_SYMBOL or not _SYMBOL.fullmatch(value):
        bad = next((ch for ch in value if not _SYMBOL.fullmatch(ch) and ch != "\\"), None)
        what = f"the character {bad!r}" if bad else f"{len(value)} characters (at most {MAX_SYMBOL})"
        raise BankError(f"{where}: {value[:30]!r} is not a symbol ({what}); write letters, sub- and superscripts "
                        f"and math commands such as \\eta, \\hat{{y}}, \\mathbf{{x}}")
    for command in re.findall(r"\\([A-Za-z]+|[,;! ])", value):
        if command not in MATH_COMMANDS:
            raise BankError(f"{where}: \\{command} is not allowed in a symbol; use letters, sub- and superscripts "
                            f"and math commands such as \\eta, \\hat{{y}}, \\mathbf{{x}} (a symbol cannot run "
                            f"other LaTeX)")
    depth = 0
    for ch in value:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            break
    if depth:
        raise BankError(f"{where}: {value[:30]!r} has unbalanced braces")
