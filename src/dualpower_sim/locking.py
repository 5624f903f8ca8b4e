"""Exclusive claims on an output folder, so two writers never share one.

A claim is an advisory ``fcntl.flock`` on a lock file that holds the claimant's process id,
host, start time and command. The kernel releases the lock when its process ends, however it
ends (a kill, an out-of-memory kill, a crash), so a claim of a dead process is stale by
construction: the next process simply takes the lock, and the holder's details it finds in the
file name the process whose leftovers it may now clear. A claim that is held names its holder
in one line (:class:`ClaimError`).

Sweeps take a shared claim on the folder's lock for each shard and an exclusive one for the
whole sweep, so shards of one sweep run side by side while a second copy of a shard, or a whole
run beside shards, is refused.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import os
import socket
import sys
import warnings
from pathlib import Path
from typing import Any

__all__ = ["Claim", "ClaimError", "NoLockWarning", "holder_alive", "pid_alive"]


#: Errors of a filesystem that has no locks at all (then a claim is not enforced, with a warning).
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


class ClaimError(Exception):
    """The folder is claimed by another live process (the message names it)."""


class NoLockWarning(UserWarning):
    """The folder's filesystem cannot lock files, so a claim on it is not enforced."""


def _holder() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300],
        "boot_ticks": _start_ticks(os.getpid()),
    }


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (tells a reused pid apart)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(text.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OverflowError, ValueError):
        return False
    return True


def holder_alive(info: dict[str, Any]) -> bool:
    """Whether the process a lock file names still runs (False only when known dead)."""
    if info.get("host") != socket.gethostname():
        return True  # cannot tell: assume it runs
    pid = info.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return False
    ticks = info.get("boot_ticks")
    return ticks is None or _start_ticks(pid) in (None, ticks)


def describe(info: dict[str, Any] | None) -> str:
    """``process 123 on host, since 2026-01-01T00:00:00+00:00`` (or what is known of it)."""
    if not info:
        return "another process"
    return (
        f"process {info.get('pid', '?')} on {info.get('host', '?')}, "
        f"since {info.get('started', '?')}"
    )


def _read_info(path: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return info if isinstance(info, dict) else None


class Claim:
    """A claim on ``path`` (a lock file): exclusive, or shared with other shared claims.

    Args:
        path: The lock file (created if missing).
        what: How to name the claimed thing in messages (``out=o/c``: as it was passed).
        shared: Take a shared claim (shards of one sweep) instead of an exclusive one.
        remove: Delete the lock file on release (a run's lock beside its folder).

    Attributes:
        previous: What the lock file said before this claim (the last holder, now gone), or
            None for a fresh lock file.
    """

    def __init__(
        self, path: Path, what: str, *, shared: bool = False, remove: bool = False
    ) -> None:
        self.path = Path(path)
        self.what = what
        self.shared = shared
        self.remove = remove
        self.previous: dict[str, Any] | None = None
        self._fd: int | None = None

    def acquire(self) -> Claim:
        """Take the claim, or raise :class:`ClaimError` naming the holder.

        Raises:
            ClaimError: If another live process holds a conflicting claim.
            OSError: If the lock file cannot be created (a read-only folder, a full disk).
        """
        mode = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        for _ in range(20):  # a holder may delete the file between our open and our lock
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in _NO_LOCKS:  # e.g. NFS mounted without a lock daemon
                    warnings.warn(
                        f"{self.what}: this filesystem cannot lock files ({exc.strerror}); a "
                        "second writer to the same folder would not be refused",
                        NoLockWarning,
                        stacklevel=2,
                    )
                    if self.remove:
                        self.path.unlink(missing_ok=True)
                    return self
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                raise ClaimError(
                    f"{self.what}: in use by {describe(_read_info(self.path))}; "
                    "wait for it to finish, or choose another folder"
                ) from None
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the file was replaced or removed meanwhile: try again
        else:  # pragma: no cover - twenty replacements in a row
            raise ClaimError(f"{self.what}: its lock file {self.path} keeps changing")
        self._fd = fd
        self.previous = _read_info(self.path)
        if not self.shared:
            data = (json.dumps(_holder()) + "\n").encode()
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, data, 0)
            except OSError:  # a full disk: let go (and remove the lock file if ours to remove)
                self.release()
                raise
        return self

    def release(self) -> None:
        """Let go of the claim (deleting the lock file if asked)."""
        if self._fd is None:
            return
        try:
            if self.remove:
                try:
                    self.path.unlink()
                except OSError:
                    pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Claim:
        return self.acquire() if self._fd is None else self

    def __exit__(self, *exc: object) -> None:
        self.release()
