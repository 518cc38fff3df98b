"""Dumped formats of a set's preambles: the class, the packages, TikZ and qgen's macros, loaded
in milliseconds instead of read and run again by every LaTeX run.

A preamble is the same for every paper of a kind (exam, key), so qgen dumps it once with
`pdflatex -ini` and runs every batch document with `-fmt`. The format is kept in the user cache
under the hash of the preamble and of the TeX installation (`pdflatex --version` and the base
format's file), so a later run of the same bank loads it at once. The cache is
$QGEN_CACHE, else $XDG_CACHE_HOME/qgen, else ~/.cache/qgen; QGEN_NO_CACHE=1 turns it off (a cold
run, as the benchmarks measure it). Anything that goes wrong here falls back to running the
preamble as before: a format only saves time. LuaLaTeX gets none (luaotfload's state is not
dumpable).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from qgen.render import pdf

KEEP = 24  # formats in the cache (about 7 MB each); the oldest go first


def cache_dir() -> Path | None:
    """The folder formats are cached in, or None when caching is off."""
    if os.environ.get("QGEN_NO_CACHE"):
        return None
    root = os.environ.get("QGEN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "qgen")
    return Path(root) / "formats"


@functools.lru_cache(maxsize=1)
def _installation() -> str:
    """What identifies the TeX installation a format belongs to."""
    try:
        version = subprocess.run(["pdflatex", "--version"], capture_output=True, text=True, timeout=30, check=False,
                                 stdin=subprocess.DEVNULL).stdout.splitlines()[:1]
        base = subprocess.run(["kpsewhich", "-engine=pdftex", "pdflatex.fmt"], capture_output=True, text=True, check=False,
                              timeout=30, stdin=subprocess.DEVNULL).stdout.strip()
        stamp = os.stat(base).st_mtime_ns if base else 0
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{version}|{base}|{stamp}"


def key(head: str) -> str:
    """The hash a preamble's format is known by."""
    return hashlib.sha256(f"{_installation()}\n{head}".encode()).hexdigest()[:24]


def prepare(head: str, workdir: Path, kind: str, running: pdf._Running, timeout: float) -> str | None:
    """A format of `head` in `workdir` (its name, for `-fmt=`), from the cache or dumped now;
    None when no format could be made (then the documents keep their preamble)."""
    name = f"qgen-{kind}-{key(head)}"
    here = workdir / f"{name}.fmt"
    cached = _cached(name)
    if cached is not None:
        try:
            _link(cached, here)
            return name
        except OSError:
            pass
    source = workdir / f"{name}.ini.tex"
    source.write_text(head.rstrip("\n") + "\n\\dump\n", encoding="utf-8")
    done = pdf._run(("pdflatex", "-ini", "-interaction=batchmode", "-no-shell-escape", f"-jobname={name}",
                     "&pdflatex"), source, timeout, running)
    for suffix in (".log", ".ini.tex"):
        (workdir / f"{name}{suffix}").unlink(missing_ok=True)
    if done is None or done[0] != 0 or not here.is_file():
        return None
    _store(here, name)
    return name


def _cached(name: str) -> Path | None:
    folder = cache_dir()
    path = folder / f"{name}.fmt" if folder else None
    return path if path is not None and path.is_file() else None


def _link(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)
    os.utime(source)  # recently used: kept longest


def _store(fmt: Path, name: str) -> None:
    """Put a new format in the cache (atomically) and drop the oldest beyond KEEP."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = folder / f".{name}.{os.getpid()}.part"
        shutil.copyfile(fmt, partial)
        os.replace(partial, folder / f"{name}.fmt")
        formats = sorted(folder.glob("*.fmt"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in formats[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
