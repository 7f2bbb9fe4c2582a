"""A mail server that refuses or is down: retries with a recorded error, nothing lost once it
is back, and a channel that keeps failing is flagged and holds instead of retrying forever."""

from __future__ import annotations

from notifications.delivery import retry_policy
from notifications.models import Channel, Delivery, DeliveryStatus
from notifications.services import notify_object_event, resume_channel, send_test_notification


def _notify(event, capture):
    with capture(execute=True):
        notify_object_event(event.pk)


def test_a_refusing_smtp_server_is_retried_and_the_mail_arrives_once_it_accepts(
    smtp, run_jobs, person_rule, object_event, django_capture_on_commit_callbacks
):
    smtp.refuse = 2  # 451 twice, then accepts
    _notify(object_event(), django_capture_on_commit_callbacks)
    run_jobs()

    assert smtp.refused == 2
    assert len(smtp.messages) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    log = list(delivery.attempt_log.values_list("number", "ok", "error"))
    assert [(n, ok) for n, ok, _ in log] == [(1, False), (2, False), (3, True)]
    assert all("451" in error and "try again later" in error for _, ok, error in log if not ok)
    assert delivery.attempt_log.filter(finished_at__isnull=True).count() == 0
    channel = Channel.objects.get()
    assert (channel.failing, channel.consecutive_failures) == (False, 0)
    assert "451" in channel.last_error  # the last problem stays visible


def test_retries_stop_after_the_policy_and_the_error_is_kept(
    smtp, run_jobs, person_rule, object_event, django_capture_on_commit_callbacks, settings
):
    smtp.refuse = 100
    _notify(object_event(), django_capture_on_commit_callbacks)
    run_jobs()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1 + len(settings.NOTIFICATIONS_RETRY_SECONDS)
    assert smtp.refused == delivery.attempts
    assert "451" in delivery.error
    assert smtp.messages == []


def test_a_channel_that_keeps_failing_is_flagged_holds_and_sends_everything_once_it_works(
    smtp, closed_port, run_jobs, person_rule, object_event, django_capture_on_commit_callbacks, settings
):
    settings.NOTIFICATIONS_FAILURE_LIMIT = 3
    person_rule.cooldown_seconds = 0
    person_rule.save()
    working_port, settings.EMAIL_PORT = settings.EMAIL_PORT, closed_port  # the server is down

    _notify(object_event(), django_capture_on_commit_callbacks)
    run_jobs()
    channel = Channel.objects.get()
    first = Delivery.objects.get()
    assert channel.failing and channel.consecutive_failures == 3
    assert "Connection refused" in channel.last_error
    # The third failure flagged the channel: the fourth attempt held it instead of retrying.
    assert (first.status, first.attempts) == (DeliveryStatus.HELD, 3)

    # While flagged, new notifications are held without a single attempt.
    _notify(object_event(), django_capture_on_commit_callbacks)
    run_jobs()
    second = Delivery.objects.exclude(pk=first.pk).get()
    assert (second.status, second.attempts) == (DeliveryStatus.HELD, 0)

    # The server is back; the admin sends a test notification, which clears the flag and
    # releases what was held.
    settings.EMAIL_PORT = working_port
    with django_capture_on_commit_callbacks(execute=True):
        test = send_test_notification(channel)
    run_jobs()

    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects == ["[AINVR] Person at Gate", "[AINVR] Person at Gate", "[AINVR] Test notification from AINVR"]
    channel.refresh_from_db()
    assert (channel.failing, channel.consecutive_failures) == (False, 0)
    assert Delivery.objects.get(pk=test.pk).is_test


def test_resuming_a_channel_sends_what_it_held(
    smtp, run_jobs, person_rule, object_event, django_capture_on_commit_callbacks
):
    Channel.objects.update(failing=True)
    _notify(object_event(), django_capture_on_commit_callbacks)
    assert Delivery.objects.get().status == DeliveryStatus.HELD

    with django_capture_on_commit_callbacks(execute=True):
        assert resume_channel(Channel.objects.get()) == 1
    run_jobs()
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    assert len(smtp.messages) == 1


def test_a_delivery_queued_while_redis_was_down_is_sent_by_the_next_sweep(
    smtp, run_jobs, person_rule, object_event, django_capture_on_commit_callbacks, settings, monkeypatch
):
    from datetime import timedelta

    import django_rq
    from django.utils import timezone

    def redis_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    with monkeypatch.context() as patch:
        patch.setattr(django_rq, "get_queue", redis_down)
        _notify(object_event(), django_capture_on_commit_callbacks)  # must not raise
    orphan = Delivery.objects.get()
    assert (orphan.status, orphan.rq_job_id) == (DeliveryStatus.PENDING, "")

    Delivery.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    person_rule.cooldown_seconds = 0
    person_rule.save()
    _notify(object_event(), django_capture_on_commit_callbacks)  # its success sweeps the orphan up
    run_jobs()
    assert list(Delivery.objects.values_list("status", flat=True)) == [DeliveryStatus.SENT] * 2
    assert len(smtp.messages) == 2


def test_the_production_retry_policy_backs_off(settings):
    settings.NOTIFICATIONS_RETRY_SECONDS = [30, 120, 600]
    policy = retry_policy()
    assert (policy.max, policy.intervals) == (3, [30, 120, 600])


def test_old_deliveries_and_their_snapshots_are_purged(db, mail_channel, settings):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from notifications.delivery import purge_old_deliveries

    settings.NOTIFICATIONS_KEEP_DAYS = 30
    shared = default_storage.save("notifications/test/old.jpg", ContentFile(b"jpeg"))
    kept_file = default_storage.save("notifications/test/new.jpg", ContentFile(b"jpeg"))
    old = [Delivery.objects.create(channel=mail_channel, snapshot=shared) for _ in range(2)]
    recent = Delivery.objects.create(channel=mail_channel, snapshot=kept_file)
    Delivery.objects.filter(pk__in=[d.pk for d in old]).update(created_at=timezone.now() - timedelta(days=31))

    assert purge_old_deliveries() == 2
    assert list(Delivery.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not default_storage.exists(shared)
    assert default_storage.exists(kept_file)
    default_storage.delete(kept_file)
