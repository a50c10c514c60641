"""Job functions for the executor tests: importable by spawned workers and (pickled by value) Slurm jobs."""

from __future__ import annotations

import time
from pathlib import Path


def add(a: int, b: int, sleep: float = 0.0) -> int:
    """``a + b`` after ``sleep`` seconds."""
    time.sleep(sleep)
    return a + b


def boom() -> None:
    """A job that fails with a recognisable message."""
    print("about to fail")
    raise RuntimeError("boom inside the job")


def _wait_for(path: Path, timeout: float = 300.0) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if time.time() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.05)


def claim_step(store_root: str, key: str, sync_dir: str, role: str) -> str:
    """Try to compute step ``key`` of the store at ``store_root``: 'computed' or 'cached'.

    Two jobs are staged so that the second tries the step while the first holds its lock: the
    first takes the lock, then waits until the second has started trying; the second starts
    only once the first holds the lock. Without a lock that holds across processes both would
    find the step unfinished and both would compute it.
    """
    from repro.runner.store import StepStore

    store, sync = StepStore(Path(store_root)), Path(sync_dir)
    if role == "second":
        _wait_for(sync / "first-has-lock")
        (sync / "second-trying").touch()
    with store.lock(key):
        if role == "first":
            (sync / "first-has-lock").touch()
            _wait_for(sync / "second-trying")
            time.sleep(0.5)  # the second is now blocked on the lock
        if store.record(key) is not None:
            return "cached"
        (store.path(key) / "computed-by").write_text(role)
        store.finish(key, {"by": role})
        return "computed"
