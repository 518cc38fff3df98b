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


@pytest.fixture(autouse=True)
def _no_course_families_left():
    """A course family a test loaded (a bank's `families:`) is not in the registry of the next test."""
    yield
    from qgen.families import course

    course._LOADED.clear()


def by_position(manifest: dict, version: str | None = None) -> dict[str, str]:
    """{old name: column}: a test written with part-id names (`q1.z1.2`, `q1.grad.W2[1,1]`, `q1.concept`)
    mapped to the positional columns of `manifest` (`q1.e.2`, `q1.n`, `q1.x`), for one version (default: the first)."""
    from qgen.grade.columns import part_columns, part_name

    v = next(v for v in manifest["versions"] if version is None or str(v["version"]) == str(version))
    out: dict[str, str] = {}
    for q in v["questions"]:
        for part in q["parts"]:
            old = {k: part[k] for k in part if k not in ("columns", "letter")}
            out[part_name(q["index"], old)] = part_name(q["index"], part)
            for a, b in zip(part_columns(q["index"], old), part_columns(q["index"], part)):
                out[a.name] = b.name
    return out


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for looking at qgen's HTML pages as a student would (no network)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (bash scripts/bootstrap.sh --test installs chromium and "
                    "chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1200,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
