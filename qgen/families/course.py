"""A course's own families: Python files next to a bank, or installed packages (entry points).

A bank names folders or files of family modules (`families: [my_families/]`, relative to the
bank); each module ends with `FAMILY = MyFamily()` (modules whose names start with `_` are
helpers, imported by the families themselves). An installed package offers its families under
the entry point group `qgen.families` (`name = "package.module:FAMILY"`). docs/families.md is the
API a family implements.

A family is checked when it is loaded, and whatever goes wrong, at loading or later in its own
code, is one line naming the file and line in the course's code:
`my_families/neuron.py:41: neuron.build: ZeroDivisionError: division by zero`.

`qgen generate` copies the files of a course's families into the output folder
(`families/`), with their SHA-256 in `manifest.json`: grading, sample answers and exports rebuild
the questions with the very code that made the exams, even after the course folder changed.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qgen.errors import FamilyError, QgenError

GROUP = "qgen.families"  # the entry point group of installed families
NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_NAME = 40
REQUIRED = ("name", "summary", "default_domain", "constraints", "template", "sample", "build")


@dataclass(frozen=True)
class Source:
    """Where a course family came from: its module file (and folder), or an installed entry point."""

    name: str
    file: Path  # the module, resolved
    entry_point: str = ""  # "package.module:FAMILY" for an installed family

    @property
    def folder(self) -> Path:
        return self.file.parent

    def sha256(self) -> str:
        return hashlib.sha256(self.file.read_bytes()).hexdigest()


_LOADED: dict[str, tuple[Any, Source]] = {}  # family name -> (the wrapped family, where it came from)
_MODULES: dict[tuple[Path, str], Any] = {}  # (file, sha256) -> its FAMILY: a file is executed once per content


def loaded() -> dict[str, Any]:
    """The course families loaded in this process, by name."""
    return {name: family for name, (family, _) in _LOADED.items()}


def source(name: str) -> Source | None:
    """Where the loaded course family `name` came from (None: not a course family)."""
    entry = _LOADED.get(name)
    return entry[1] if entry else None


def module_files(entry: Path, where: str) -> list[Path]:
    """The family modules a bank's `families:` entry names: a .py file, or a folder's *.py not starting with _."""
    if entry.is_dir():
        files = sorted(p for p in entry.glob("*.py") if not p.name.startswith("_"))
        if not files:
            raise FamilyError(f"{where}: {entry}/ holds no family module (*.py not starting with _); "
                              "`qgen family new NAME` writes one")
        return files
    if entry.is_file() and entry.suffix == ".py":
        return [entry]
    what = "is not a .py file" if entry.exists() else "no such folder or file"
    raise FamilyError(f"{where}: {entry}: {what}; list folders of family modules or .py files, relative to the bank")


def load_files(files: Iterable[Path], builtin: Iterable[str] = ()) -> list[Source]:
    """Import each family module, check its FAMILY and register it (a name given twice is an error)."""
    builtin = set(builtin)
    out: list[Source] = []
    seen: dict[str, Path] = {}
    for file in files:
        file = Path(file).resolve()
        family = _family_of(file)
        name = family.name
        if name in builtin:
            raise FamilyError(f"{file}:{_line_of(file)}: family name {name!r} is one of qgen's own families; "
                              "choose another name")
        if name in seen:
            raise FamilyError(f"{file}:{_line_of(file)}: family name {name!r} is also defined in {seen[name]}; "
                              "give each family its own name")
        seen[name] = file
        src = Source(name, file)
        _LOADED[name] = (_Checked(family, src), src)
        _add_templates(file.parent)
        out.append(src)
    return out


def load_entry_point(name: str, builtin: Iterable[str] = ()) -> Any | None:
    """The installed family `name` (entry point group `qgen.families`), registered; None if there is none."""
    for ep in entry_points():
        if ep.name != name:
            continue
        try:
            obj = ep.load()
        except Exception as e:  # noqa: BLE001 - the package's own failure, shown as one line
            raise FamilyError(f"{_where(e, None) or ep.value}: installed family {name!r} ({ep.value}) failed to "
                              f"load: {type(e).__name__}: {e}") from None
        family = getattr(obj, "FAMILY", obj)
        module = sys.modules.get(getattr(type(family), "__module__", ""), None)
        file = Path(getattr(module, "__file__", "") or ep.value).resolve()
        _check(family, file, name)
        if name in set(builtin):
            raise FamilyError(f"{ep.value}: installed family {name!r} has the name of one of qgen's own families")
        src = Source(name, file, ep.value)
        _LOADED[name] = (_Checked(family, src), src)
        _add_templates(file.parent)
        return _LOADED[name][0]
    return None


def entry_points() -> list[Any]:
    """The installed families' entry points (group `qgen.families`)."""
    from importlib.metadata import entry_points as eps

    return list(eps(group=GROUP))


# -- loading one module ------------------------------------------------------------------------
def _family_of(file: Path) -> Any:
    """FAMILY of the module at `file`, executing it once per content; errors name the file and line."""
    try:
        text = file.read_bytes()
    except OSError as e:
        raise FamilyError(f"{file}: cannot be read ({e.strerror or e})") from None
    digest = hashlib.sha256(text).hexdigest()
    known = _MODULES.get((file, digest))
    if known is not None:
        return known
    module_name = f"qgen_course.{file.stem}_{hashlib.sha1(str(file).encode()).hexdigest()[:8]}_{digest[:8]}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise FamilyError(f"{file}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # before running it: dataclasses and pickling look their module up
    sys.path.insert(0, str(file.parent))  # a family may import its folder's helper modules (_helpers.py)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        sys.modules.pop(module_name, None)
        raise FamilyError(f"{file}:{e.lineno}: SyntaxError: {e.msg}") from None
    except Exception as e:  # noqa: BLE001 - anything the course's code raises while it is imported
        sys.modules.pop(module_name, None)
        raise FamilyError(f"{_where(e, file.parent) or file}: {type(e).__name__}: {e} (while importing the family "
                          "module)") from None
    finally:
        try:
            sys.path.remove(str(file.parent))
        except ValueError:
            pass
    family = getattr(module, "FAMILY", None)
    if family is None:
        raise FamilyError(f"{file}:1: defines no FAMILY; a family module ends with `FAMILY = MyFamily()` (a helper "
                          "module's name starts with _)")
    _check(family, file, None)
    _MODULES[(file, digest)] = family
    return family


def _check(family: Any, file: Path, name: str | None) -> None:
    """The attributes every family has, with the right types; an error names the line of the family's class."""
    at = f"{file}:{_line_of(file, family)}"
    missing = [a for a in REQUIRED if not hasattr(family, a)]
    if missing:
        raise FamilyError(f"{at}: the family lacks {', '.join(missing)} (see docs/families.md: a family has "
                          f"{', '.join(REQUIRED)})")
    if not isinstance(family.name, str) or not NAME.fullmatch(family.name) or len(family.name) > MAX_NAME:
        raise FamilyError(f"{at}: name {family.name!r}: use lower-case letters, digits and single hyphens, at most "
                          f"{MAX_NAME} characters (e.g. 'softmax-step')")
    if name is not None and family.name != name:
        raise FamilyError(f"{at}: the entry point is called {name!r} but the family's name is {family.name!r}")
    if not isinstance(family.summary, str) or not family.summary.strip():
        raise FamilyError(f"{at}: summary: expected one line of text (what `qgen list` prints)")
    if not isinstance(family.default_domain, Mapping):
        raise FamilyError(f"{at}: default_domain: expected a mapping of domain keys to their default choices")
    constraints = family.constraints
    if not isinstance(constraints, (tuple, list)) or not all(isinstance(c, str) for c in constraints):
        raise FamilyError(f"{at}: constraints: expected a tuple of constraint names (may be empty: ())")
    if not isinstance(family.template, str) or not family.template.endswith(".j2"):
        raise FamilyError(f"{at}: template: expected the file name of its statement template, e.g. "
                          f"'{family.name}.tex.j2', next to the module")
    if not (file.parent / family.template).is_file() and not _builtin_template(family.template):
        raise FamilyError(f"{at}: template {family.template!r}: no such file next to {file.name}")
    for method in ("sample", "build"):
        if not callable(getattr(family, method)):
            raise FamilyError(f"{at}: {method} is not a method")


def _builtin_template(name: str) -> bool:
    from qgen.resources import templates_dir

    return (templates_dir() / name).is_file()


def _line_of(file: Path, family: Any = None) -> int:
    """The line of `FAMILY =` in the module, else of the family's class, else 1."""
    try:
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith("FAMILY") and "=" in line:
                return n
    except (OSError, UnicodeDecodeError):
        pass
    try:
        return inspect.getsourcelines(type(family))[1] if family is not None else 1
    except (OSError, TypeError):
        return 1


def _where(exc: BaseException, folder: Path | None) -> str:
    """file:line of the innermost frame of the traceback in the course's folder (any frame if None)."""
    found = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if folder is None or path.parent == folder:
            found = f"{frame.filename}:{frame.lineno}"
    return found


def _add_templates(folder: Path) -> None:
    from qgen.render.latex import add_template_folder

    add_template_folder(folder)


class _Checked:
    """A course family whose failures are one line naming the file and line in the course's code.

    Every attribute is the family's own; calling a method that raises anything but a QgenError
    (a bug in the course's code) gives a FamilyError `file:line: name.method: Error: message`.
    """

    def __init__(self, family: Any, src: Source) -> None:
        self.__dict__["_family"] = family
        self.__dict__["_source"] = src

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._family, attr)
        if attr.startswith("__") or not inspect.ismethod(value) and not inspect.isfunction(value):
            return value
        return _guarded(value, f"{self._family.name}.{attr}", self._source.folder)

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(self._family, attr, value)

    def __repr__(self) -> str:
        return f"<course family {self._family.name!r} from {self._source.file}>"


def _guarded(method: Callable[..., Any], what: str, folder: Path) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except QgenError:
            raise
        except Exception as e:  # noqa: BLE001 - a bug in the course's family: one line that says where
            at = _where(e, folder) or _where(e, None)
            raise FamilyError(f"{at}: {what}: {type(e).__name__}: {e}") from None

    return call


# -- the copy in the output folder -----------------------------------------------------------------
def copies(sources: Iterable[Source]) -> list[tuple[Path, str]]:
    """(file, path in the output folder) of everything a set of course families needs: each family's
    folder's modules and templates (*.py, *.j2), under families/<n>-<folder name>/."""
    out: list[tuple[Path, str]] = []
    folders: dict[Path, str] = {}
    for src in sources:
        if src.entry_point or src.folder in folders:
            continue
        folders[src.folder] = f"families/{len(folders) + 1}-{src.folder.name or 'course'}"
        for f in sorted(src.folder.iterdir()):
            if f.is_file() and f.suffix in (".py", ".j2"):
                out.append((f, f"{folders[src.folder]}/{f.name}"))
    return out


def manifest_records(sources: Iterable[Source]) -> list[dict[str, Any]]:
    """What `manifest.json` records of the course families (see `copies` for the file paths)."""
    sources = list(sources)
    where = {f: rel for f, rel in copies(sources)}
    out = []
    for src in sources:
        if src.entry_point:
            out.append({"name": src.name, "entry_point": src.entry_point})
        else:
            out.append({"name": src.name, "file": where[src.file], "sha256": src.sha256()})
    return out


def load_recorded(exam_dir: Path, records: Any, where: str) -> None:
    """Register the course families a manifest records, from the copies in its folder (checked by SHA-256)."""
    from qgen.families import INDEX

    if not isinstance(records, list):
        raise FamilyError(f"{where}: families: expected a list of {{name, file, sha256}}")
    files = []
    for n, rec in enumerate(records):
        at = f"{where}: families[{n}]"
        if not isinstance(rec, Mapping) or not isinstance(rec.get("name"), str):
            raise FamilyError(f"{at}: expected {{name, file, sha256}} or {{name, entry_point}}")
        if "entry_point" in rec:
            if load_entry_point(rec["name"], INDEX) is None:
                raise FamilyError(f"{at}: the installed family {rec['name']!r} ({rec['entry_point']}) is not installed "
                                  "here; install its package")
            continue
        rel = rec.get("file")
        if not isinstance(rel, str) or rel.startswith(("/", "\\")) or ".." in Path(rel).parts:
            raise FamilyError(f"{at}.file: expected a path inside the output folder, got {rel!r}")
        file = exam_dir / rel
        if not file.is_file():
            raise FamilyError(f"{file}: missing; the course family {rec['name']!r} is kept in the output folder: "
                              "restore it, or generate the exam set again")
        if hashlib.sha256(file.read_bytes()).hexdigest() != rec.get("sha256"):
            raise FamilyError(f"{file}: changed since the exams were generated (its SHA-256 differs from "
                              "manifest.json): restore it, or generate the exam set again")
        files.append(file)
    if files:
        load_files(files, INDEX)
