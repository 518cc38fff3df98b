"""One exception hierarchy: every error qgen raises on bad input is a QgenError.

Messages name the file, the line or key, and what to do about it; the CLI turns a
QgenError into a one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations


class QgenError(Exception):
    """Base of every error qgen reports to a user."""


class BankError(QgenError):
    """A bank, parameter or pin file is malformed or asks for something impossible."""


class FamilyError(QgenError):
    """An unknown family, or a family that cannot build the instance it was given."""


class RenderError(QgenError):
    """LaTeX could not be produced or compiled (missing TeX, a LaTeX error, a timeout)."""


class SubmissionError(QgenError):
    """An answer file or one of its cells could not be read."""


class UndefinedValueError(FamilyError):
    """A quantity cannot be computed for these numbers (log of 0, division by 0)."""
