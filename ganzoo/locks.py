"""Advisory file locks between ganzoo processes on one machine (reference features, bench cells)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so concurrent processes may repeat each other's work
    fcntl = None


@contextmanager
def exclusive(path: Path, *, block: bool = True, on_wait: Callable[[], None] | None = None) -> Iterator[bool]:
    """Hold an exclusive lock on the lock file ``path`` for the ``with`` block; yields whether it is held.

    ``block=False`` yields False at once when another process holds it. Otherwise this waits,
    calling ``on_wait`` first so the user learns why. Where no lock can be taken (a read-only
    folder, no ``fcntl``), the block runs unlocked and True is yielded.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")
    except OSError:
        yield True
        return
    with handle:  # closing the file releases the lock
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not block:
                    yield False
                    return
                if on_wait is not None:
                    on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
        yield True
