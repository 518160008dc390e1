"""Exclusive advisory locks beside the archive file: one crawl at a time, one search-index rebuild at a time.

flock is released by the kernel when the process dies, even by SIGKILL, so a
crashed run never leaves a stale lock behind. The holder's pid is written in
the file for the message the next comer sees.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path


class Locked(RuntimeError):
    """Another process holds the lock."""


@contextlib.contextmanager
def exclusive_lock(path: str | Path, what: str, on: str | Path,
                   error: Callable[[str], Exception] = Locked) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` or raise ``error`` at once (never wait); ``what`` runs ``on`` an archive."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise error(f"another {what} is running on {on} ({holder}); try again later") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
