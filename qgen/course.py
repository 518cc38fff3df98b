"""`qgen init DIR`: a new course folder with the shipped example banks, pins and roster.

The examples ship inside the wheel (`qgen/_banks`, see pyproject.toml) and are read through
importlib.resources; in a source checkout they are the top-level `banks/` folder.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from qgen.errors import QgenError

EXAMPLES = ("midterm.yaml", "quiz.yaml", "seeds.yaml", "deep-learning.yaml", "course.yaml", "roster-example.csv", "pins",
            "course-families")


def examples() -> Traversable:
    """The folder of shipped example banks (a Traversable: a real folder or inside a zip)."""
    packaged = resources.files("qgen") / "_banks"
    if packaged.is_dir():
        return packaged
    from qgen.resources import banks_dir  # a source checkout or an editable install

    return banks_dir()


def _copy(source: Traversable, target: Path, written: list[Path]) -> None:
    if source.is_dir():
        target.mkdir()
        for child in sorted(source.iterdir(), key=lambda c: c.name):
            if not child.name.startswith("."):
                _copy(child, target / child.name, written)
    else:
        target.write_bytes(source.read_bytes())
        written.append(target)


def init_course(folder: Path) -> list[Path]:
    """Copy the example banks, `pins/` and `roster-example.csv` into `folder` (made if missing;
    an existing folder must be empty); the files written."""
    folder = Path(folder)
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir():
            raise QgenError(f"{folder}: is a file; give a new or empty folder")
        inside = sorted(p.name for p in folder.iterdir())
        if inside:
            raise QgenError(f"{folder}: is not empty ({', '.join(inside[:3])}{' …' if len(inside) > 3 else ''}); "
                            "qgen init writes only into a new or empty folder")
    source = examples()
    missing = [name for name in EXAMPLES if not (source / name).is_file() and not (source / name).is_dir()]
    if missing:
        raise QgenError(f"the example banks are missing from this installation ({', '.join(missing)}); reinstall qgen")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for name in EXAMPLES:
            _copy(source / name, folder / name, written)
    except OSError as e:
        raise QgenError(f"{folder}: cannot be written ({e.strerror or e}); choose another folder") from None
    return written
