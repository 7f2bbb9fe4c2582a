"""Settings → System status lists the detector and face recognition processes of every
runworkers host with their state, from the keys the stage pool writes (issue 15, item 13)."""

from __future__ import annotations

import re

import pytest
import redis
from django.conf import settings

from detection.status import KEY_PREFIX, STAGE_PREFIX, StageStatus, publish_detector_status, publish_stage_statuses

URL = "/admin/ops/systemstatus/"
pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs the test Redis")


@pytest.fixture
def client_redis():
    client = redis.Redis.from_url(settings.REDIS_URL)

    def clean():
        for prefix in (KEY_PREFIX, STAGE_PREFIX):
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)

    clean()
    yield client
    clean()


def rows(page: str) -> list[list[str]]:
    section = page.split("Detector and face recognition processes", 1)[1].split("<h2>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", section)
        if "<td>" in row
    ]


def test_it_lists_the_detector_and_face_processes_with_their_state(admin_client, camera, client_redis):
    import time

    now = time.time()
    publish_stage_statuses(client_redis, [
        StageStatus("nvr-1", "detector-cpu", "detection", "running", pid=4100, restarts=1, recent_exits=(now - 60,),
                    since=now - 50, updated_at=now),
        StageStatus("nvr-1", "attendance", "attendance", "given_up", restarts=5, last_exit_code=1,
                    recent_exits=(now - 50, now - 40, now - 30, now - 20, now - 10), since=now - 10,
                    given_up_until=now + 590, updated_at=now),
    ])  # fmt: skip
    publish_detector_status(client_redis, host="nvr-1", pid=4100, detector="onnx cpu", cameras=["gate"],
                            metrics={"inference_ms_avg": 12.5})  # fmt: skip

    page = admin_client.get(URL).content.decode()

    found = rows(page)
    assert [row[:-1] for row in found] == [
        ["attendance", "Face recognition", "nvr-1", "given up", "–", "5", "5", "–", "–"],
        ["detector-cpu", "Detector", "nvr-1", "running", "4100", "1", "1", "gate", "12.5 ms"],
    ]
    assert all(row[-1].endswith(" s ago") for row in found)  # when its host last reported it
    assert "Face recognition process attendance on nvr-1 is given up" in page


def test_without_any_stage_it_says_so(admin_client, client_redis):
    page = admin_client.get(URL).content.decode()
    assert "No runworkers host reports a detector or face recognition process" in page


def test_metrics_show_a_dead_detector_as_not_running(admin_client, client_redis):
    import time

    now = time.time()
    publish_stage_statuses(client_redis, [
        StageStatus("nvr-1", "detector-cpu", "detection", "restarting", restarts=3, since=now, updated_at=now),
        StageStatus("nvr-1", "attendance", "attendance", "running", pid=4101, since=now, updated_at=now),
    ])  # fmt: skip
    text = admin_client.get("/metrics").content.decode()
    assert 'ainvr_stage_running{host="nvr-1",stage="detector-cpu"} 0.0' in text
    assert 'ainvr_stage_running{host="nvr-1",stage="attendance"} 1.0' in text
    assert 'ainvr_stage_restarts{host="nvr-1",stage="detector-cpu"} 3.0' in text
