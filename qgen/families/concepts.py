"""Conceptual questions with model answers and rubrics (LaTeX text), graded by hand.

Each entry: id -> (prompt, model answer, rubric as (points, text) items). Drawn from the remarks of the seed
documents (001 §4, 000's note on the order of updates, 001's note on squared error).
The texts write the network's symbols as <x> (input vector), <y> (target), <yhat> (output)
and <zout> (output pre-activation); `mlp` fills them in the exam's notation.
"""

from __future__ import annotations

from typing import Mapping

MLP: dict[str, tuple[str, str, tuple[tuple[float, str], ...]]] = {
    "compare-regression": (
        "Compare this neural network with linear regression and with logistic regression. "
        "How are the models similar, and how do they differ?",
        "All three compute weighted sums of their inputs plus a bias and are trained by minimising a loss with "
        "gradient descent. Linear regression is a single linear layer with no activation (a linear function of "
        r"$<x>$); logistic regression is a single linear layer followed by a sigmoid, so its decision "
        "boundary is still linear. A neural network stacks several linear layers with non-linear activations "
        "between them, so it can represent non-linear functions and decision boundaries and learns its own "
        "features in the hidden layer; the price is a non-convex loss (local minima, dependence on the "
        "initialisation) and gradients that must be computed by backpropagation through the layers.",
        ((1, "the similarities (weighted sum + bias, loss minimised by gradient descent)"),
         (1, "identifying linear/logistic regression as one-layer special cases (logistic = linear layer + sigmoid)"),
         (1, "the difference: hidden layers with non-linear activations give non-linear functions "
             "(and a non-convex objective)")),
    ),
    "update-order": (
        "Why must all the derivatives be computed before any weight is updated? What goes wrong if the "
        "last layer's weights are updated first and then used to compute the first layer's derivatives?",
        "Backpropagation computes the gradient of the loss at the current weights: the derivatives of the "
        "first layer reuse the last layer's weights and the forward values computed with them. Updating the "
        "last layer first would mix old and new weights, so the first layer's derivatives would be those of "
        "a different network at a point that was never evaluated, and the step would no longer follow the "
        "gradient of the loss.",
        ((1, "the gradient is evaluated at one point (the current weights)"),
         (1, "earlier-layer derivatives depend on later-layer weights (e.g. the derivative of a layer's "
             "pre-activation by the previous layer's activation is that layer's weight)"),
         (1, "updating early gives a wrong (inconsistent) gradient")),
    ),
    "squared-error-classification": (
        "This network is trained with squared error although the task is a binary classification. "
        "Why is that unusual, and what loss would you use instead? Explain why.",
        "Squared error treats the label as a real target and, combined with a sigmoid output, its gradient "
        r"contains $\sigma'(<zout>) = <yhat>(1 - <yhat>)$, which is nearly 0 when the output saturates, even when "
        "the prediction is confidently wrong, so learning stalls. Binary cross-entropy is the negative "
        r"log-likelihood of a Bernoulli label: with a sigmoid output its gradient is simply $<yhat> - <y>$, "
        "large when the prediction is wrong, and it yields calibrated probabilities.",
        ((1, "squared error assumes a real-valued (Gaussian) target / is not the likelihood of a label"),
         (1, "the vanishing-gradient effect of $\\sigma'$ with squared error"),
         (1, "cross-entropy, with its gradient $<yhat> - <y>$ or its probabilistic meaning")),
    ),
    "nonlinearity": (
        "What would the network compute if every activation were the identity (linear)? "
        "Why do we need non-linear activations?",
        "A composition of affine maps is affine: with identity activations the whole network equals a single "
        "linear layer, one affine map of $<x>$, however many layers it has, so it can only represent "
        "linear functions (and linear decision boundaries). Non-linear activations between the layers are "
        "what let a network represent non-linear functions.",
        ((1, "the network collapses to one affine map"),
         (1, "shows or argues why (product of matrices)"),
         (1, "non-linearity is needed to represent non-linear functions")),
    ),
}


def mlp(concept: str, symbols: Mapping[str, str]) -> tuple[str, str, tuple[tuple[float, str], ...]]:
    """The prompt, model answer and rubric ((points, text) items) of an MLP concept, with `symbols` filled in.

    >>> "simply $o - t$" in mlp("squared-error-classification", {"x": "x", "y": "t", "yhat": "o", "zout": "s"})[1]
    True
    """
    def fill(text: str) -> str:
        for name, tex in symbols.items():
            text = text.replace(f"<{name}>", tex)
        return text

    prompt, model, rubric = MLP[concept]
    return fill(prompt), fill(model), tuple((points, fill(text)) for points, text in rubric)

