"""log_event() and instrumented_job(): the one-line-per-event convention, and jobs that
announce their start and end in the log and the metrics."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from core.jsonlog import JsonFormatter
from core.logevents import log_event
from ops import scrape
from ops.jobs import instrumented_job


def test_an_event_reads_as_text_and_carries_its_fields(caplog):
    log = logging.getLogger("ainvr.recording")
    with caplog.at_level(logging.INFO, logger="ainvr.recording"):
        log_event(log, "segment.closed", camera="gate", bytes=812345, name="has a space")

    record = caplog.records[-1]
    assert record.getMessage() == 'segment closed camera=gate bytes=812345 name="has a space"'
    line = json.loads(JsonFormatter().format(record))
    assert (line["event"], line["camera"], line["bytes"], line["name_"]) == (
        "segment.closed", "gate", 812345, "has a space",
    )  # fmt: skip


@pytest.mark.django_db
def test_a_job_logs_its_start_and_end_and_is_counted(caplog, admin_client):
    kind = "test-" + uuid.uuid4().hex[:6]

    @instrumented_job(kind)
    def work(x):
        return x * 2

    @instrumented_job(kind)
    def broken():
        raise RuntimeError("no")

    with caplog.at_level(logging.INFO, logger="ainvr.jobs"):
        assert work(21) == 42
        with pytest.raises(RuntimeError):
            broken()

    events = [(r.event, getattr(r, "result", None)) for r in caplog.records if r.name == "ainvr.jobs"]
    assert events == [("job.started", None), ("job.finished", "ok"), ("job.started", None), ("job.finished", "failed")]
    text = scrape.render().decode()
    assert f'ainvr_job_seconds_count{{kind="{kind}",result="ok"}} 1.0' in text
    assert f'ainvr_job_seconds_count{{kind="{kind}",result="failed"}} 1.0' in text
