"""Shared fixtures: the repository's folders and a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
BANKS = ROOT / "banks"
GOLDEN = Path(__file__).resolve().parent / "golden"

needs_latex = pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdflatex") is None,
                                 reason="latexmk/pdflatex not installed (run bash scripts/bootstrap.sh --test)")
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
