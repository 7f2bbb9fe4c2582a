"""Whether a process still runs, from its pid alone. Django-free: capture processes, the test
set-up and the Redis helper use it."""

from __future__ import annotations

import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine (in this pid namespace). Someone else's
    process counts; a zombie (exited, not reaped yet) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (not Linux): kill() said it exists
        return True
