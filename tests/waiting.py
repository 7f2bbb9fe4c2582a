"""Waiting on a condition in tests, with a deadline instead of a sleep."""

from __future__ import annotations

import time


def wait_for(condition, timeout: float, what: str, interval: float = 0.02):
    """Return condition()'s first truthy value; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(interval)
