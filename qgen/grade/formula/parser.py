"""The parser: tokens into a tree by precedence climbing, with the nesting limits and matched parentheses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qgen.errors import SubmissionError
from qgen.grade.formula.tokens import _END, _PRIMARY, MAX_DEPTH, MAX_LEVELS, Token
from qgen.grade.formula.tree import (
    CONSTANTS,
    FUNCTIONS,
    Apply,
    Bin,
    Call,
    Cases,
    Compare,
    Neg,
    Node,
    Num,
    Truth,
    Var,
)

if TYPE_CHECKING:
    from qgen.grade.formula.read import _Context


# -- the parser -----------------------------------------------------------------------------------
class _Parser:
    """Precedence climbing over the tokens: if-else < comparison < + - < * / (and implicit) < unary < ^."""

    def __init__(self, tokens: list[Token], ctx: _Context, closing: dict[int, int]):
        self.tokens, self.ctx, self.closing = tokens, ctx, closing
        self.i = 0
        self.level = 0

    # helpers
    def peek(self, k: int = 0) -> Token:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else _END

    def take(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def at(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.value in ops

    def at_kw(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "kw" and tok.value in words

    def expect(self, op: str, why: str) -> None:
        if not self.at(op):
            raise SubmissionError(f"{why}; found {self.where()}")
        self.i += 1

    def where(self) -> str:
        tok = self.peek()
        if tok.kind == "end":
            return "the end of the formula"
        if tok.kind == "op" and tok.value == ",":
            return ("',' (commas only separate the arguments of max, min, Heaviside and the cases of a "
                    "piecewise formula)")
        return repr(tok.text)

    def deeper(self) -> None:
        self.level += 1
        if self.level > MAX_LEVELS:
            raise SubmissionError(f"the formula is nested too deeply (at most {MAX_DEPTH} levels)")

    def starts_factor(self) -> bool:
        tok = self.peek()
        return tok.kind in _PRIMARY or (tok.kind == "op" and tok.value in "({") or \
            (tok.kind == "kw" and tok.value in ("True", "False"))

    # grammar
    def formula(self) -> Node:
        node = self.expr()
        if self.peek().kind != "end":
            raise SubmissionError(f"unexpected {self.where()} in the formula")
        return node

    def expr(self) -> Node:
        """value [if condition else expr]"""
        value = self.comparison()
        if not self.at_kw("if"):
            return value
        self.take()
        condition = self.condition()
        if not self.at_kw("else"):
            raise SubmissionError(f"after 'A if condition' type 'else' and the other value; found {self.where()}")
        self.take()
        self.deeper()
        other = self.expr()
        self.level -= 1
        return Cases(((value, condition), (other, None)))

    def condition(self) -> Node:
        node = self.comparison()
        if not isinstance(node, (Compare, Truth)):
            raise SubmissionError("a condition must be a comparison such as z > 0 (or True)")
        return node

    def comparison(self) -> Node:
        operands, ops = [self.additive()], []
        while self.at("<", ">", "<=", ">="):
            ops.append(self.take().value)
            operands.append(self.additive())
        return Compare(tuple(ops), tuple(operands)) if ops else operands[0]

    def additive(self) -> Node:
        node = self.term()
        while self.at("+", "-"):
            op = self.take().value
            node = Bin(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while True:
            if self.at("*", "/"):
                op = self.take().value
                node = Bin(op, node, self.unary())
            elif self.starts_factor():  # implicit multiplication: 2x, x(1 - x), x cos x
                node = Bin("*", node, self.power())
            else:
                return node

    def unary(self) -> Node:
        if self.at("-", "+"):
            sign = self.take().value
            self.deeper()
            arg = self.unary()
            self.level -= 1
            return Neg(arg) if sign == "-" else arg
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if not self.at("^"):
            return base
        self.take()
        self.deeper()
        exponent = self.unary()  # right-associative: x^y^z is x^(y^z); 2^-x
        self.level -= 1
        return Bin("^", base, exponent)

    def atom(self) -> Node:
        tok = self.peek()
        if tok.kind == "num":
            self.take()
            return Num(tok.value)
        if tok.kind == "const":
            self.take()
            return Num(CONSTANTS[tok.value])
        if tok.kind == "kw" and tok.value in ("True", "False"):
            self.take()
            return Truth(tok.value == "True")
        if tok.kind in ("var", "def"):
            return self.name()
        if tok.kind == "fn":
            return self.function()
        if tok.kind == "piecewise":
            return self.piecewise()
        if self.at("("):
            self.take()
            self.deeper()
            if self.at(")"):
                raise SubmissionError("empty parentheses in the formula")
            node = self.expr()
            self.expect(")", "a '(' is not closed where expected")
            self.level -= 1
            return node
        if self.at("{"):
            return self.braces()
        if tok.kind == "end":
            raise SubmissionError("the formula ends too early (an operator or function needs what follows it)")
        raise SubmissionError(f"unexpected {self.where()} in the formula")

    def name(self) -> Node:
        """A variable or a defined name, with its argument written out (`g(z)`, `h(x)`) or applied (`g(-z)`)."""
        tok = self.take()
        if not self.at("("):
            return Var(tok.value)
        start = self.i
        inside = self.tokens[start + 1:self.closing[start]]
        params = self.ctx.defined[tok.value][0] if tok.kind == "def" else ()
        written = [t.kind for t in inside] == ["arg"] or (
            len(inside) == len(params) == 1 and inside[0].kind == "var" and inside[0].value == params[0])
        if written:
            self.i = self.closing[start] + 1
            return Var(tok.value)
        if tok.kind == "var" or any(t.kind in ("def", "arg") for t in inside):
            return Var(tok.value)  # g(1 - g): a product, read by `term`
        args = self.arguments(tok.text)
        if len(args) != len(params):
            raise SubmissionError(f"{tok.text} takes {len(params)} argument{'s' * (len(params) != 1)} "
                                  f"({', '.join(params)}), got {len(args)}")
        _, body = self.ctx.defined[tok.value]
        return Apply(tok.value, params, body, args)

    def arguments(self, name: str) -> tuple[Node, ...]:
        self.expect("(", f"{name} needs its arguments in parentheses")
        self.deeper()
        if self.at(")"):
            raise SubmissionError(f"{name}() has no argument; type e.g. {name}(x)")
        args = [self.expr()]
        while self.at(","):
            self.take()
            args.append(self.expr())
        self.expect(")", f"the parentheses of {name}( are not closed")
        self.level -= 1
        return tuple(args)

    def function(self) -> Node:
        tok = self.take()
        fn = FUNCTIONS[tok.value]
        power: Node | None = None
        if self.at("^"):  # sin^2(x), tanh²z
            self.take()
            if self.peek().kind == "num":
                power = Num(self.take().value)
            elif self.at("("):
                self.take()
                self.deeper()
                power = self.expr()
                self.expect(")", "a '(' is not closed where expected")
                self.level -= 1
            if power is None or isinstance(power, Neg):
                raise SubmissionError(f"{tok.text}^-1 is ambiguous (1/{tok.text} or its inverse) and other powers of "
                                      f"a function need a number: type {tok.text}(x)^2 or 1/{tok.text}(x)")
        if self.at("("):
            args = self.arguments(tok.text)
        elif fn.arity == (1, 1) and self.starts_factor():  # cos x, x^2 cos x: the next factor with its power
            self.deeper()
            args = (self.power(),)
            self.level -= 1
        else:
            raise SubmissionError(f"{tok.text} needs its argument, e.g. {tok.text}(x)")
        low, high = fn.arity
        if not low <= len(args) <= high:
            count = "one argument" if high == 1 else f"{low} or {high} arguments" if high == low + 1 else \
                f"{low} to {high} arguments"
            raise SubmissionError(f"{tok.text} takes {count}, got {len(args)}")
        node: Node = Call(tok.value, args)
        return Bin("^", node, power) if power is not None else node

    def piecewise(self) -> Node:
        """Piecewise((value, condition), ...), as sympy writes it."""
        self.take()
        self.expect("(", "Piecewise needs its cases: Piecewise((1, z > 0), (0, True))")
        self.deeper()
        cases = []
        while True:
            self.expect("(", "each case of Piecewise is (value, condition)")
            self.deeper()
            value = self.expr()
            self.expect(",", "each case of Piecewise is (value, condition)")
            condition = self.condition()
            self.expect(")", "each case of Piecewise is (value, condition)")
            self.level -= 1
            cases.append((value, condition))
            if not self.at(","):
                break
            self.take()
        self.expect(")", "the parentheses of Piecewise( are not closed")
        self.level -= 1
        return Cases(tuple(cases))

    def braces(self) -> Node:
        """{1 if z > 0; 0 otherwise}: cases separated by ; or , each with `if condition`, `, condition`,
        `otherwise` or `else` (before or after its value); a last case without one is the otherwise case."""
        self.take()
        self.deeper()
        cases: list[tuple[Node, Node | None]] = []
        while True:
            if self.at_kw("otherwise", "else"):
                self.take()
                cases.append((self.comparison(), None))
            else:
                value = self.comparison()
                condition: Node | None = None
                if self.at_kw("if"):
                    self.take()
                    condition = self.condition()
                elif self.at_kw("otherwise", "else"):
                    self.take()
                elif self.at(",") and self.condition_follows():
                    self.take()
                    if self.at_kw("otherwise", "else"):
                        self.take()
                    else:
                        condition = self.condition()
                cases.append((value, condition))
            if self.at(";", ","):
                self.take()
                if self.at("}"):
                    break
            elif not self.at_kw("else", "otherwise"):
                break
        self.expect("}", "a '{' of cases is not closed: type {1 if z > 0; 0 otherwise}")
        self.level -= 1
        return Cases(tuple(cases))

    def condition_follows(self) -> bool:
        """After a case's value and a ',': is what follows up to the next ',', ';' or '}' its condition?"""
        depth, j = 0, self.i + 1
        first = self.tokens[j] if j < len(self.tokens) else _END
        if first.kind == "kw" and first.value in ("otherwise", "True", "False"):
            return True
        while j < len(self.tokens):
            tok = self.tokens[j]
            if tok.kind == "op" and tok.value in "({":
                depth += 1
            elif tok.kind == "op" and tok.value in ")}":
                if depth == 0:
                    return False
                depth -= 1
            elif depth == 0 and tok.kind == "op" and tok.value in (",", ";"):
                return False
            elif depth == 0 and tok.kind == "op" and tok.value in ("<", ">", "<=", ">="):
                return True
            j += 1
        return False


def _closing(tokens: list[Token]) -> dict[int, int]:
    """The index of the matching close of every ( and {; errors for unbalanced or too deeply nested ones."""
    stack: list[int] = []
    out: dict[int, int] = {}
    pairs = {"(": ")", "{": "}"}
    for j, tok in enumerate(tokens):
        if tok.kind != "op":
            continue
        if tok.value in pairs:
            stack.append(j)
            if len(stack) > MAX_DEPTH:
                raise SubmissionError(f"parentheses nested more than {MAX_DEPTH} deep in the formula")
        elif tok.value in (")", "}"):
            if not stack:
                raise SubmissionError(f"unbalanced parentheses in the formula: a {tok.value!r} closes nothing")
            opened = stack.pop()
            if pairs[tokens[opened].value] != tok.value:
                raise SubmissionError(f"a {tokens[opened].value!r} is closed by {tok.value!r} in the formula")
            out[opened] = j
    if stack:
        raise SubmissionError(f"unbalanced parentheses in the formula: a {tokens[stack[-1]].value!r} is not closed")
    return out
