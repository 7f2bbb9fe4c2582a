"""The lock that tells a dead `runworkers` from a live one on the same machine: held for the
life of the process, dropped by the kernel when the process dies, kill -9 included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from pipeline.cluster.hosts import HostLock
from tests.installs import REPO


def test_a_second_process_of_a_host_cannot_take_a_held_lock(tmp_path):
    first, second = HostLock(tmp_path, "nvr-1"), HostLock(tmp_path, "nvr-1")

    assert first.try_acquire()
    assert not second.try_acquire()
    assert HostLock(tmp_path, "nvr-2").try_acquire()  # another host's lock is its own
    first.release()
    assert second.try_acquire()


def test_the_lock_of_a_killed_process_is_free_at_once(tmp_path):
    code = (
        "import sys, django; django.setup(); from pipeline.cluster.hosts import HostLock; "
        f"assert HostLock({str(tmp_path)!r}, 'nvr-1').try_acquire(); print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=dict(os.environ, DJANGO_SETTINGS_MODULE="ainvr.settings"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not HostLock(tmp_path, "nvr-1").try_acquire()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        assert HostLock(tmp_path, "nvr-1").try_acquire()
    finally:
        if holder.poll() is None:
            holder.kill()
