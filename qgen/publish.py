"""Write an exam set to a folder: .tex, PDFs and manifest.json, all or nothing.

Everything is written into a fresh folder beside the target and moved into place only when
every file (and every PDF) is ready, so a failed run leaves the old output as it was.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from qgen import difficulty
from qgen.bank import Bank
from qgen.errors import QgenError
from qgen.generate import Draws, Version, build_version, manifest
from qgen.grade.columns import template_header
from qgen.render import pdf
from qgen.render.exam import document


@dataclass(frozen=True)
class Result:
    """What `write_exam_set` made."""

    out: Path
    versions: list[Version]
    tex: list[Path]
    pdfs: list[Path]
    difficulty: difficulty.Report


def render_version(bank: Bank, v: Version, *, key: bool) -> str:
    """The LaTeX of one version's exam (key=False) or answer key (key=True)."""
    return document(title=bank.title, course=bank.course, date=bank.date, instructions=bank.instructions,
                    exam_id=bank.exam_id, version=v.id, places=bank.places, questions=v.questions, key=key)


def write_exam_set(bank: Bank, version_ids: list[str], out: Path, *, make_pdf: bool = True, force: bool = False,
                   jobs: int | None = None, timeout: float = 120,
                   progress: Callable[[str, int], None] | None = None) -> Result:
    """Solve, render and (optionally) compile every version into `out`.

    `progress(stage, n)` is told how many steps a stage has ("versions", "pdf") and then
    called with n=1 per step done, for a progress bar.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise QgenError(f"{out}: already exists and is not empty; choose another --out or pass --force to replace it")
    if make_pdf:
        pdf.require_tex()
    tell = progress or (lambda stage, n: None)

    versions: list[Version] = []
    draws = Draws()
    tell("versions", -len(version_ids))
    for vid in version_ids:
        versions.append(build_version(bank, vid, draws))
        tell("versions", 1)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
    try:
        tex_files: list[Path] = []
        for v in versions:
            for kind, key in (("exam", False), ("key", True)):
                path = staging / f"{kind}-{v.id}.tex"
                path.write_text(render_version(bank, v, key=key), encoding="utf-8")
                tex_files.append(path)
        report = difficulty.compare(difficulty.measure_versions(versions))
        record = manifest(bank, versions)
        record["difficulty"] = report.as_dict()
        (staging / "manifest.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        with open(staging / "answers-template.csv", "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerow(template_header(record))
        pdfs: list[Path] = []
        if make_pdf:
            tell("pdf", -len(tex_files))
            pdfs = pdf.compile_many(tex_files, jobs=jobs, timeout=timeout, on_done=lambda p: tell("pdf", 1))
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Result(out, versions, [out / p.name for p in tex_files], [out / p.name for p in pdfs], report)


def _replace(staging: Path, out: Path) -> None:
    """Move the finished folder into place (the old one, if any, goes only after that succeeds)."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out)
