"""Polling for the runner tests: a worker thread or process changes the database while the test waits."""
from __future__ import annotations

import time


def wait_until(predicate, timeout: float, what: str) -> None:
    """Returns once `predicate()` is true; fails naming `what` after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
