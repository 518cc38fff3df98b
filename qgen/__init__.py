"""qgen: randomized, exactly solved neural-network exam questions, rendered to LaTeX/PDF and graded."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_bank", "build_version", "solve"]


def __getattr__(name: str):
    # The public API, imported lazily so `import qgen` stays cheap.
    if name == "load_bank":
        from qgen.bank import load_bank

        return load_bank
    if name == "build_version":
        from qgen.generate import build_version

        return build_version
    if name == "solve":
        from qgen.solve import solve

        return solve
    raise AttributeError(name)
