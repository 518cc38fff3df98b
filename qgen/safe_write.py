"""Writing files and folders so that a crash, a kill -9 or a full disk never leaves half of one.

- `write_file(path, data)`: the data goes to a temporary file beside `path`, is flushed to disk
  (fsync), given the mode every new file gets (0o666 minus the umask) and renamed over `path`;
  the temporary file is removed on any failure.
- `replace_folder(path, files)`: the complete new folder is built in a hidden folder beside
  `path` (`.<name>.qgen-<pid>-<random>`), then swapped in with one atomic rename (Linux:
  renameat2 RENAME_EXCHANGE); elsewhere the old folder is moved aside, the new one renamed in,
  and the old one restored if that fails. Either way the old folder is then removed.
- `staging_folder(path)` / `swap_in(staging, path)`: the same two steps, for a caller that fills
  the folder itself (qgen.publish).

A run killed half-way leaves at most a hidden `.<name>.qgen-<pid>-…` beside the target; the next
run removes such leftovers of dead processes (and, if the kill came between the two renames of
the fallback, puts the old folder back first). Folders get 0o777 minus the umask.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from qgen.errors import QgenError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class WriteError(QgenError):
    """A file or folder could not be written (a full disk, no permission); `reason` says why."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets: 0o666 minus the umask."""
    return 0o666 & ~umask()


def folder_mode() -> int:
    """The mode a new folder gets: 0o777 minus the umask."""
    return 0o777 & ~umask()


def write_file(path: Path, data: str | bytes) -> Path:
    """Write `data` (text: UTF-8) to `path` atomically; a failure is a one-line WriteError."""
    path = Path(path)
    if path.is_dir():
        raise WriteError(f"{path}: is a folder; give a file name", "is a folder")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        reason = e.strerror or str(e)
        raise WriteError(f"{path}: cannot be written ({reason}); check that its folder exists and is writable",
                         reason) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            reason = e.strerror or str(e)
            raise WriteError(f"{path}: cannot be written ({reason}); it was left as it was", reason) from None
        raise
    return path


def _leftover(name: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(name)}\.qgen-(\d+)-.+")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean_leftovers(path: Path) -> None:
    """Remove what killed runs left beside `path` (`.<name>.qgen-<pid>-…` of dead processes); an old
    folder moved aside by a run killed between its two renames is put back if `path` is missing."""
    path = Path(path)
    pattern = _leftover(path.name)
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for entry in sorted(entries, key=lambda p: not p.name.endswith("-old")):
        m = pattern.fullmatch(entry.name)
        if m is None or _alive(int(m.group(1))):
            continue
        if entry.name.endswith("-old") and not (path.exists() or path.is_symlink()):
            try:
                os.rename(entry, path)
                continue
            except OSError:
                pass
        _remove(entry)


def staging_folder(path: Path) -> Path:
    """A new empty hidden folder beside `path` (leftovers of killed runs removed first), mode 0o777
    minus the umask; a parent that cannot be written is a one-line QgenError."""
    path = Path(path)
    clean_leftovers(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.qgen-{os.getpid()}-", dir=path.parent))
    except OSError as e:
        reason = e.strerror or str(e)
        raise WriteError(f"{path.parent}: cannot write there ({reason}); "
                         "choose another output folder or make it writable", reason) from None
    staging.chmod(folder_mode())  # mkdtemp makes it private; the result is an ordinary folder
    return staging


def _exchange(a: Path, b: Path) -> bool:
    """Swap `a` and `b` in one atomic step (Linux renameat2); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_folder(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def swap_in(staging: Path, path: Path) -> None:
    """Put the finished folder `staging` in the place of `path` atomically; the old `path` (if
    any) is removed after. `staging` is gone afterwards, whatever happens."""
    staging, path = Path(staging), Path(path)
    try:
        _fsync_folder(staging)
        if not (path.exists() or path.is_symlink()):
            os.rename(staging, path)
        elif _exchange(staging, path):
            _remove(staging)  # now the old folder
        else:
            old = staging.with_name(staging.name + "-old")
            os.rename(path, old)
            try:
                os.rename(staging, path)
            except BaseException:
                os.rename(old, path)
                raise
            _remove(old)
    except BaseException:
        _remove(staging)
        raise
    _fsync_folder(path.parent)


def create(path: Path, data: str | bytes) -> None:
    """A new file in a staging folder (mode 0o666 minus the umask). Not synced one by one: the folder
    is swapped in only once every file is written, so a failure or a kill leaves the old folder."""
    with open(path, "xb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)


def replace_folder(path: Path, files: Mapping[str, str | bytes | None]) -> list[Path]:
    """Replace the folder `path` by one holding `files` ({relative path: text or bytes; None: an
    empty folder}) as a whole: the old folder or the new one, never a mix, and no temporary folder
    left behind on a failure (a failure is a one-line WriteError)."""
    shown = path
    path = Path(path).resolve()  # a link: replace the folder it points to, keep the link
    if path.exists() and not path.is_dir():
        raise WriteError(f"{shown}: is a file; give a folder", "is a file")
    if path == Path.cwd().resolve() or path in Path.cwd().resolve().parents:
        raise WriteError(f"{shown}: is (or holds) the current folder; give another folder", "the current folder")
    for name in files:
        if Path(name).is_absolute() or ".." in Path(name).parts or not Path(name).parts:
            raise ValueError(f"{name!r}: not a path inside the folder")
    staging = staging_folder(path)
    written: list[Path] = []
    try:
        for name, data in files.items():
            target = staging / name
            if data is None:
                target.mkdir(parents=True, exist_ok=True)  # mode 0o777 minus the umask
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            create(target, data)
            written.append(path / name)
        swap_in(staging, path)
    except BaseException as e:
        _remove(staging)
        if isinstance(e, (OSError, WriteError)):
            reason = e.reason if isinstance(e, WriteError) else e.strerror or str(e)
            raise WriteError(f"{shown}: cannot be written ({reason}); the folder was left as it was", reason) from None
        raise
    return written
