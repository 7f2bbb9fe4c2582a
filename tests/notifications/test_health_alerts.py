"""Health alerts are rules like any other (issue 15, item 13): a camera offline for more than
N seconds notifies once and its return once, a camera that keeps dropping out does not
storm, a disk running out notifies, and so does a detector process that dies or restarts in
a loop. Driven step by step through HealthCheckTask with its clock and sources passed in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cameras.models import Camera, CameraStatus
from cameras.services import save_camera
from detection.status import StageStatus
from notifications.health import HealthCheckTask
from notifications.models import Delivery, HealthAlert, HealthCondition, Rule
from ops.selectors import DiskRow

GB = 1024**3


class World:
    """What the health check looks at: the time, the stage statuses, the disks."""

    def __init__(self):
        self.now = timezone.now().replace(microsecond=0)
        self.stages: list[StageStatus] | Exception = []
        self.disks: list[DiskRow] = []

    def read_stages(self):
        if isinstance(self.stages, Exception):
            raise self.stages
        return self.stages

    def task(self) -> HealthCheckTask:
        return HealthCheckTask(now=lambda: self.now, read_stages=self.read_stages, disk_rows=lambda: self.disks)

    def later(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def world():
    return World()


@pytest.fixture
def health_rule(db, mail_channel):
    rule = Rule.objects.create(
        name="System health", health_kinds=["camera_offline", "storage_low", "stage_down"],
        health_after_seconds=60, cooldown_seconds=900,
    )  # fmt: skip
    rule.channels.add(mail_channel)
    return rule


def status(camera, state, last_frame_at):
    CameraStatus.objects.update_or_create(camera=camera, defaults={"state": state, "last_frame_at": last_frame_at})


def sent(event=None) -> list[Delivery]:
    deliveries = Delivery.objects.order_by("pk")
    return [d for d in deliveries if event is None or d.payload["event"] == event]


def test_a_camera_offline_for_longer_than_the_rule_allows_notifies_once(world, camera, health_rule):
    task = world.task()
    status(camera, "offline", world.now - timedelta(seconds=30))
    task.run()
    assert sent() == []  # offline for 30 s: not yet

    world.later(40)  # 70 s without a frame
    task.run()
    world.later(5)
    task.run()
    [delivery] = sent()
    assert delivery.payload["event"] == "camera_offline"
    assert delivery.payload["camera"]["slug"] == "gate"
    assert delivery.payload["health"]["state"] == "down"
    assert delivery.payload["rule"]["name"] == "System health"


def test_a_camera_back_online_notifies_once_after_its_down(world, camera, health_rule):
    task = world.task()
    status(camera, "offline", world.now - timedelta(minutes=5))
    task.run()
    world.later(10)
    status(camera, "online", world.now)
    task.run()
    world.later(5)
    status(camera, "online", world.now)
    task.run()
    assert [d.payload["event"] for d in sent()] == ["camera_offline", "camera_online"]
    assert not HealthAlert.objects.exists() and not HealthCondition.objects.exists()


def test_a_short_dropout_notifies_nobody_not_even_its_return(world, camera, health_rule):
    task = world.task()
    status(camera, "offline", world.now - timedelta(seconds=20))
    task.run()
    world.later(5)
    status(camera, "online", world.now)
    task.run()
    assert sent() == []


def test_a_flapping_camera_does_not_storm(world, camera, health_rule):
    """Down for 70 s, back for 20 s, ten times within the cooldown: one down, one back."""
    task = world.task()
    for _ in range(10):
        status(camera, "offline", world.now)
        world.later(70)
        task.run()
        world.later(5)
        status(camera, "online", world.now)
        task.run()
        world.later(20)
    assert [d.payload["event"] for d in sent()] == ["camera_offline", "camera_online"]

    # Past the cooldown, a new outage is news again.
    world.later(900)
    status(camera, "offline", world.now)
    world.later(70)
    task.run()
    assert [d.payload["event"] for d in sent()][-1] == "camera_offline"
    assert len(sent()) == 3


def test_an_online_camera_whose_status_went_stale_counts_as_offline(world, camera, health_rule):
    """Its runworkers host died: nobody writes the status any more, it still says online."""
    task = world.task()
    status(camera, "online", world.now - timedelta(seconds=90))
    task.run()
    [delivery] = sent()
    assert "runworkers host may be down" in delivery.payload["health"]["detail"]


def test_a_rule_for_chosen_cameras_ignores_the_others_but_not_the_disks(world, camera, health_rule):
    other = save_camera(Camera(name="Yard", slug="yard", stream_url="rtsp://192.0.2.11/main"))
    health_rule.cameras.add(other)
    status(camera, "offline", world.now - timedelta(minutes=5))
    status(other, "online", world.now)
    world.disks = [DiskRow("Recordings", "/srv/rec", 100 * GB, 99 * GB, 1 * GB, key="recordings")]
    task = world.task()
    task.run()
    world.later(61)
    status(other, "online", world.now)
    task.run()
    assert [d.payload["event"] for d in sent()] == ["storage_low"]


def test_a_disk_below_the_threshold_notifies(world, health_rule, settings):
    settings.HEALTH_MIN_FREE_PERCENT = 5
    task = world.task()
    world.disks = [DiskRow("Recordings, media, data", "/srv", 1000 * GB, 960 * GB, 40 * GB, key="recordings")]
    task.run()
    world.later(120)
    task.run()
    [delivery] = sent()
    assert delivery.payload["event"] == "storage_low"
    assert "below 5 %" in delivery.payload["health"]["detail"]

    world.disks = [DiskRow("Recordings, media, data", "/srv", 1000 * GB, 800 * GB, 200 * GB, key="recordings")]
    world.later(5)
    task.run()
    assert [d.payload["event"] for d in sent()] == ["storage_low", "storage_ok"]


def test_retention_not_keeping_up_notifies(world, health_rule, settings):
    from recordings.models import StorageSettings

    settings.HEALTH_MIN_FREE_PERCENT = 0
    StorageSettings.objects.update_or_create(pk=1, defaults={"min_free_gb": 20.0})
    world.disks = [DiskRow("Recordings", "/srv/rec", 1000 * GB, 990 * GB, 10 * GB, key="recordings")]
    task = world.task()
    task.run()
    world.later(61)
    task.run()
    [delivery] = sent()
    assert "retention is not keeping up" in delivery.payload["health"]["detail"]


def stage(state, *, exits=(), since=None, pid=None, restarts=0, code=None):
    return StageStatus(
        host="nvr-1", name="detector-cpu", queue="detection", state=state, pid=pid, restarts=restarts,
        recent_exits=tuple(exits), since=since or timezone.now().timestamp(), last_exit_code=code,
        updated_at=timezone.now().timestamp(),
    )  # fmt: skip


def test_a_detector_that_dies_and_stays_down_notifies(world, health_rule):
    task = world.task()
    world.stages = [stage("restarting", since=world.now.timestamp(), restarts=1, code=-9)]
    task.run()
    world.later(30)
    world.stages = [stage("given_up", since=world.now.timestamp(), restarts=5, code=-9)]
    task.run()
    world.later(31)
    task.run()
    [delivery] = sent()
    assert delivery.payload["event"] == "stage_down"
    assert delivery.payload["health"]["title"] == "Detector (detector-cpu) on nvr-1"
    assert "kept crashing" in delivery.payload["health"]["detail"]

    world.later(5)
    world.stages = [stage("running", pid=4242, restarts=5)]
    task.run()
    assert [d.payload["event"] for d in sent()] == ["stage_down", "stage_up"]


def test_a_detector_restarting_in_a_loop_notifies_while_it_runs(world, health_rule):
    health_rule.health_after_seconds = 0
    health_rule.save()
    t = world.now.timestamp()
    world.stages = [stage("running", pid=4243, restarts=3, exits=(t - 200, t - 100, t - 10), code=1)]
    world.task().run()
    [delivery] = sent()
    assert delivery.payload["event"] == "stage_down"
    assert "Restarting in a loop: 3 exits" in delivery.payload["health"]["detail"]


def test_a_detector_restarted_once_is_no_news(world, health_rule):
    t = world.now.timestamp()
    world.stages = [stage("running", pid=4244, restarts=1, exits=(t - 30,), code=-9)]
    task = world.task()
    task.run()
    world.later(120)
    task.run()
    assert sent() == []


def test_when_redis_cannot_be_read_a_down_detector_stays_down(world, health_rule):
    task = world.task()
    world.stages = [stage("given_up", since=world.now.timestamp() - 120)]
    task.run()
    assert [d.payload["event"] for d in sent()] == ["stage_down"]
    world.stages = ConnectionError("Redis is away")
    world.later(5)
    task.run()
    assert [d.payload["event"] for d in sent()] == ["stage_down"]  # no false "running again"


def test_the_alert_email_says_what_is_wrong(
    world, camera, health_rule, smtp, run_jobs, django_capture_on_commit_callbacks
):
    CameraStatus.objects.update_or_create(
        camera=camera, defaults={"state": "error", "last_error": "The camera refused the password"}
    )
    task = world.task()
    task.run()
    world.later(61)
    with django_capture_on_commit_callbacks(execute=True):
        task.run()
    run_jobs()
    [message] = smtp.messages
    assert message["Subject"] == "[AINVR] Gate is offline"
    body = message.get_body(("plain",)).get_content()
    assert "The camera refused the password" in body


def test_a_rule_without_health_alerts_is_not_woken_by_them(world, camera, person_rule):
    status(camera, "offline", world.now - timedelta(hours=1))
    world.task().run()
    assert sent() == []


def test_a_health_rule_is_made_in_the_admin(admin_client, mail_channel):
    response = admin_client.post(
        "/admin/notifications/rule/add/",
        {"name": "Health", "enabled": "on", "health_kinds": ["camera_offline", "stage_down"],
         "health_after_seconds": "120", "notify_recovery": "on", "min_confidence": "0.5",
         "weekdays": ["0", "1", "2", "3", "4", "5", "6"], "cooldown_seconds": "600", "channels": [mail_channel.pk]},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = Rule.objects.get(name="Health")
    assert (rule.health_kinds, rule.health_after_seconds, rule.notify_recovery) == (
        ["camera_offline", "stage_down"],
        120,
        True,
    )


def test_a_rule_with_nothing_to_watch_is_refused(admin_client, mail_channel):
    response = admin_client.post(
        "/admin/notifications/rule/add/",
        {"name": "Empty", "min_confidence": "0.5", "weekdays": ["0"], "cooldown_seconds": "60",
         "channels": [mail_channel.pk]},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Choose object classes, attendance events or health alerts." in response.content.decode()


def test_a_camera_switched_off_while_offline_is_not_said_to_be_back(world, camera, health_rule):
    task = world.task()
    status(camera, "offline", world.now - timedelta(minutes=5))
    task.run()
    Camera.objects.filter(pk=camera.pk).update(enabled=False)
    world.later(5)
    task.run()
    assert [d.payload["event"] for d in sent()] == ["camera_offline"]
    assert not HealthAlert.objects.exists()


def test_a_detector_the_stage_pool_gives_up_on_notifies_through_redis(world, health_rule, settings):
    """The pool's own Redis key, read back by the task as runworkers runs it."""
    import redis

    from detection.status import STAGE_PREFIX
    from pipeline.stage_pool import RedisStageReport, StagePool, StageSpec

    class Dies:
        pid = 4321

        def __init__(self, spec, queue):
            self.alive, self.exitcode = False, 1  # crashes at once

        def is_alive(self):
            return self.alive

    pool = StagePool([StageSpec("detector-cpu", "x:y", "detection")], spawn=Dies, make_queue=lambda size: object(),
                     host="nvr-e2e", report=RedisStageReport())  # fmt: skip
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=STAGE_PREFIX + "*"):  # other tests' pools, still fresh
        client.delete(key)
    try:
        t = 100.0
        while pool.statuses(t)[0].state != "given_up" and t < 300:
            pool.tend(t, wanted={"detection"})
            t += 0.5
        health_rule.health_after_seconds = 0
        health_rule.save()
        HealthCheckTask(now=lambda: world.now, disk_rows=lambda: []).run()
    finally:
        client.delete(STAGE_PREFIX + "nvr-e2e:detector-cpu")
    [delivery] = sent()
    assert delivery.payload["event"] == "stage_down"
    assert delivery.payload["health"]["title"] == "Detector (detector-cpu) on nvr-e2e"
