"""The chain-rule family's derivations graded by hand: the product, sum, linearity and quotient rules
shown from the multivariate chain rule, with their model answers and rubrics."""

from __future__ import annotations

D_DX = r"\frac{dy}{dx}"
CHAIN = r"\frac{\partial y}{\partial u}\frac{du}{dx} + \frac{\partial y}{\partial v}\frac{dv}{dx}"


def _rule(outer: str, du: str, dv: str, result: str, name: str) -> str:
    """A model derivation: the partials of m, substituted into the chain rule."""
    return (rf"With $y = {outer}$ we have $\partial y/\partial u = {du}$ and $\partial y/\partial v = {dv}$. "
            rf"Substituting them into the chain rule: \[ {D_DX} = {CHAIN} = {result}, \] {name}.")


QUOTIENT_RULE = r"\frac{v\,\dfrac{du}{dx} - u\,\dfrac{dv}{dx}}{v^2}"
TWO = ((1, "both partial derivatives of $y$"), (1, "substituting them into the chain rule"))
# m -> (id, what to show, y as written, ∂y/∂u, ∂y/∂v, the result, what it is)
RULES = {
    "product": ("product", r"\frac{d(uv)}{dx} = u\frac{dv}{dx} + v\frac{du}{dx} \quad\text{(the product rule)}",
                "uv", "v", "u",
                r"v\frac{du}{dx} + u\frac{dv}{dx}", "which is the product rule"),
    "product-square": ("product-square", r"\frac{d(uv^2)}{dx} = v^2\frac{du}{dx} + 2uv\frac{dv}{dx}", "uv^2",
                       "v^2", "2uv", r"v^2\frac{du}{dx} + 2uv\frac{dv}{dx}", "as claimed"),
    "sum": ("sum", r"\frac{d(u + v)}{dx} = \frac{du}{dx} + \frac{dv}{dx}", "u + v", "1", "1",
            r"\frac{du}{dx} + \frac{dv}{dx}", "so the derivative of a sum is the sum of the derivatives"),
    "linear": ("linear", r"\frac{d(au + bv)}{dx} = a\frac{du}{dx} + b\frac{dv}{dx}", "au + bv", "a", "b",
               r"a\frac{du}{dx} + b\frac{dv}{dx}", "so differentiation is linear"),
}


def rule_parts(m: str) -> list[tuple[str, str, str, tuple[tuple[float, str], ...]]]:
    """The derivation parts for m: (id, prompt, model answer, rubric items); the product also gets the quotient."""
    out = []
    if m in RULES:
        id, claim, outer, du, dv, result, name = RULES[m]
        constants = " for any constants $a$ and $b$" if m == "linear" else ""
        prompt = rf"Rewrite your chain-rule equation to show that{constants} \[ {claim}. \]"
        out.append((id, prompt, _rule(outer, du, dv, result, name), TWO))
    if m in ("product", "quotient"):
        how = ("Now prove the quotient rule the same way" if out
               else "Use your chain-rule equation to prove the quotient rule")
        prompt = (rf"{how}: for $y = u/v$ with $u = g(x)$, $v = h(x)$ and $v \neq 0$, show that "
                  rf"\[ {D_DX} = {QUOTIENT_RULE}. \]")
        model = _rule("u/v", "1/v", "-u/v^2", rf"\frac{{1}}{{v}}\frac{{du}}{{dx}} - \frac{{u}}{{v^2}}\frac{{dv}}{{dx}} "
                      rf"= {QUOTIENT_RULE}", "over the common denominator $v^2$: the quotient rule")
        items = ((1, r"$\partial y/\partial u = 1/v$"), (1, r"$\partial y/\partial v = -u/v^2$"),
                 (1, "substituting into the chain rule and bringing both terms over the denominator $v^2$"))
        out.append(("quotient", prompt, model, items))
    return out
