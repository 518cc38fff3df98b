"""One run at a time on an output folder: a lock file beside it, `.<name>.lock`.

`generate` and `grade` replace their output folder as a whole; two runs on the same folder
would silently replace each other's work. `hold(folder, command)` creates the lock file
exclusively (O_EXCL) with the holder's process id, host, command and start time, and removes it
when the run ends, however it ends. A second run fails at once with a one-line `LockError`
naming the holder. A lock left by a run that was killed (its process is gone, on this host) is
recognised as stale and taken over.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "grades"
>>> with hold(out, "qgen grade"):
...     lock_path(out).exists()
True
>>> lock_path(out).exists()
False
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from qgen.errors import QgenError


class LockError(QgenError):
    """Another run holds the output folder."""


def lock_path(folder: Path) -> Path:
    """The lock file of an output folder: beside it, since the folder itself is replaced."""
    folder = Path(folder)
    return folder.parent / f".{folder.name}.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, as another user's process
    return True


def _holder(path: Path) -> dict | None:
    """What a lock file says (None if it is gone or unreadable: a lock being written)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _stale(info: dict | None, path: Path) -> bool:
    """A lock whose process is gone (on this host), or an unreadable one older than a minute."""
    if info is None:
        try:
            return time.time() - path.stat().st_mtime > 60
        except OSError:
            return True
    if info.get("host") != socket.gethostname():
        return False  # another machine's run (a shared folder): only its owner can tell
    pid = info.get("pid")
    return not isinstance(pid, int) or not _alive(pid)


@contextlib.contextmanager
def hold(folder: Path, command: str) -> Iterator[Path]:
    """Hold the lock of `folder` for the block; a LockError at once if another live run holds it."""
    path = lock_path(folder)
    mine = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                       "started": time.strftime("%Y-%m-%d %H:%M:%S")})
    for _ in range(3):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            info = _holder(path)
            if _stale(info, path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            who = (f"{info.get('command', 'qgen')} (process {info.get('pid')} on {info.get('host')}, "
                   f"started {info.get('started')})") if info else "another qgen run"
            raise LockError(f"{folder}: {who} is writing it; wait for it to finish, or delete {path} if that "
                            "run is gone") from None
        except OSError as e:
            raise LockError(f"{path}: cannot create the lock file ({e.strerror or e}); check that "
                            f"{path.parent} is writable") from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(mine)
        break
    else:
        raise LockError(f"{folder}: its lock {path} keeps changing; is another qgen run starting? try again")
    try:
        yield path
    finally:
        if _holder(path) == json.loads(mine):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
