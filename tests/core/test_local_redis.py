"""core.local_redis: the private Redis scripts/up and the tests start where none answers."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from core import local_redis

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core.local_redis", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"


@pytest.fixture
def started():
    """Servers a test starts, stopped afterwards even when it fails."""
    servers: list[local_redis.Server] = []
    yield servers
    for server in servers:
        server.proc.kill()
        server.proc.wait(10)


def test_a_private_redis_starts_answers_keeps_its_data_and_stops(tmp_path, started):
    server = local_redis.start(0, tmp_path / "redis")
    started.append(server)
    assert local_redis.ping(server.url)
    assert (tmp_path / "redis" / "redis.pid").read_text().strip() == str(server.pid)
    redis.Redis.from_url(server.url).set("kept", "yes")

    assert local_redis.stop(tmp_path / "redis")  # the pid file names it
    server.proc.wait(10)
    assert not local_redis.ping(server.url)
    dumps = list((tmp_path / "redis").glob("dump-v*.rdb"))
    assert [d.name for d in dumps] == [f"dump-v{local_redis._major(local_redis.server_binary())}.rdb"]

    again = local_redis.start(server.port, tmp_path / "redis")
    started.append(again)
    assert redis.Redis.from_url(again.url).get("kept") == b"yes"


def test_a_throwaway_redis_saves_nothing(tmp_path, started):
    server = local_redis.start(0, tmp_path, persistent=False, detach=False)
    started.append(server)
    redis.Redis.from_url(server.url).set("lost", "yes")
    assert local_redis.stop(tmp_path, server.pid)
    server.proc.wait(10)
    assert not list(tmp_path.glob("*.rdb"))


def test_a_password_and_a_unix_socket_come_from_the_url(tmp_path, started):
    url = f"unix://:s3cret@{tmp_path}/redis.sock"
    started.append(local_redis.start(url, tmp_path))
    assert local_redis.ping(url)
    assert not local_redis.ping(f"unix://{tmp_path}/redis.sock")  # no password: refused


def test_stop_signals_only_a_redis_server(tmp_path):
    other = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "redis.pid").write_text(f"{other.pid}\n")  # a pid file outlived its Redis, the pid reused
        assert not local_redis.stop(tmp_path)
        assert other.poll() is None
    finally:
        other.kill()
        other.wait(10)


def test_a_port_taken_by_something_else_is_named(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(local_redis.Error, match=f"port {port} is taken by something that does not answer PING"):
            local_redis.start(f"redis://127.0.0.1:{port}/0", tmp_path)
    assert not (tmp_path / "redis.log").exists()  # refused before starting anything


def test_cli_ensure_starts_one_only_where_none_answers_and_stop_stops_it(tmp_path):
    url = f"redis://127.0.0.1:{local_redis.free_port()}/0"
    first = cli("ensure", url, str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    pid = int(first.stdout)
    try:
        assert local_redis.ping(url)
        second = cli("ensure", url, str(tmp_path / "b"))
        assert (second.returncode, second.stdout) == (0, "")
        assert "answers at" in second.stderr and not (tmp_path / "b").exists()

        assert cli("stop", str(tmp_path / "a"), str(pid)).returncode == 0
        assert gone(pid)  # stop waits until it has exited
        assert not local_redis.ping(url)
    finally:
        if not gone(pid):
            subprocess.run(["kill", "-KILL", str(pid)])


def test_cli_a_url_it_cannot_start_is_one_error_line(tmp_path):
    result = cli("ensure", "rediss://:hunter2@127.0.0.1:1/0", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "ainvr: error: no Redis answers at rediss://***@127.0.0.1:1/0 and only a redis:// or unix:// Redis "
        "can be started here; start it yourself"
    ]


def test_cli_a_redis_that_dies_at_once_shows_its_log(tmp_path):
    result = cli("ensure", f"unix://{tmp_path}/missing/redis.sock", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("ainvr: error: the Redis started for unix://")
    assert "exited right after starting" in lines[-1]
    assert any(line.startswith("ainvr: last lines of ") for line in lines)
