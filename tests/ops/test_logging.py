"""LOG_FORMAT=json: one JSON object a line, with the event's fields; plain by default."""

from __future__ import annotations

import json
import logging
import sys

from core.jsonlog import JsonFormatter

LOG_ONE = (
    "import logging; logging.getLogger('ainvr.recording').info("
    "'segment closed camera=%s bytes=%d', 'gate', 1234, extra={'event': 'segment.closed', 'camera': 'gate'})"
)


def test_a_record_becomes_one_json_line_with_its_extra_fields():
    record = logging.LogRecord("ainvr.retention", logging.INFO, __file__, 1, "deleted %s", ("a.mp4",), None)
    record.event, record.camera, record.bytes = "retention.deleted", "gate", 4096

    line = JsonFormatter().format(record)

    assert "\n" not in line
    data = json.loads(line)
    assert data["msg"] == "deleted a.mp4"
    assert (data["level"], data["logger"]) == ("INFO", "ainvr.retention")
    assert (data["event"], data["camera"], data["bytes"]) == ("retention.deleted", "gate", 4096)
    assert data["ts"].endswith("+00:00")


def test_a_traceback_stays_inside_the_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("ainvr.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exc"]


def test_manage_py_logs_json_lines_when_asked(install):
    result = install.manage("shell", "-c", LOG_ONE, LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {"event": "segment.closed", "camera": "gate", "msg": "segment closed camera=gate bytes=1234"}.items() <= (
        lines[-1].items()
    )


def test_manage_py_logs_plain_lines_by_default(install):
    result = install.manage("shell", "-c", LOG_ONE)
    assert result.returncode == 0, result.stderr
    assert "INFO ainvr.recording: segment closed camera=gate bytes=1234" in result.stderr


def test_an_unknown_log_format_stops_start_up_naming_it(install):
    result = install.manage("check", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT='xml' is not one of plain, json" in result.stderr.strip().splitlines()[-1]


REDIS_AWAY = (
    "import logging, redis\n"
    "client = redis.Redis.from_url('redis://127.0.0.1:1/0', socket_connect_timeout=1)\n"
    "try:\n"
    "    client.ping()\n"
    "except Exception:\n"
    "    logging.getLogger('ainvr.workers').warning('could not publish the stage statuses', exc_info=True)\n"
    "try:\n"
    "    {}['missing']\n"
    "except Exception:\n"
    "    logging.getLogger('ainvr.workers').warning('a bug', exc_info=True)\n"
)


def test_redis_away_is_one_line_and_a_bug_keeps_its_traceback(install):
    result = install.manage("shell", "-c", REDIS_AWAY)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    [away] = [line for line in lines if "stage statuses" in line]
    assert away.endswith("(ConnectionError: Error 111 connecting to 127.0.0.1:1. Connection refused.)")
    assert result.stderr.count("Traceback") == 1 and lines[-1] == "KeyError: 'missing'"


def test_the_database_away_is_one_line():
    from django.db.utils import OperationalError

    from core.outages import OutageLines

    error = OperationalError('connection failed: connection to server at "127.0.0.1", port 1 failed\nIs it running?')
    record = logging.LogRecord("ainvr.x", logging.WARNING, __file__, 1, "turn of %s failed", ("retention",), None)
    record.exc_info = (OperationalError, error, None)

    assert OutageLines().filter(record)
    assert record.exc_info is None
    assert record.getMessage() == (
        'turn of retention failed (OperationalError: connection failed: connection to server at "127.0.0.1", '
        "port 1 failed)"
    )
