"""The admin's side: a test notification per channel, deliveries with their attempts and
errors, sending again, and a write-only webhook secret."""

from __future__ import annotations

from notifications.models import Channel, Delivery, DeliveryAttempt, DeliveryStatus

CHANNELS = "/admin/notifications/channel/"


def test_send_test_notification_reaches_the_mailbox(
    admin_client, smtp, run_jobs, mail_channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANNELS, {"action": "send_test_notification", "_selected_action": [mail_channel.pk]}, follow=True
        )
    assert "Test notification queued for 1 channel(s)" in response.content.decode()
    run_jobs()
    [mail] = smtp.messages
    assert mail["Subject"] == "[AINVR] Test notification from AINVR"
    delivery = Delivery.objects.get()
    assert (delivery.is_test, delivery.status, delivery.rule) == (True, DeliveryStatus.SENT, None)


def test_a_delivery_page_shows_each_attempt_and_its_error(admin_client, mail_channel):
    from django.utils import timezone

    delivery = Delivery.objects.create(channel=mail_channel, status=DeliveryStatus.FAILED, attempts=2,
                                       error="SMTPServerDisconnected: gone", payload={"event": "test"})  # fmt: skip
    now = timezone.now()
    DeliveryAttempt.objects.create(delivery=delivery, number=1, started_at=now, error="ConnectionRefusedError: 111")
    DeliveryAttempt.objects.create(delivery=delivery, number=2, started_at=now, error="SMTPServerDisconnected: gone")
    page = admin_client.get(f"/admin/notifications/delivery/{delivery.pk}/change/").content.decode()
    assert "ConnectionRefusedError: 111" in page and "SMTPServerDisconnected: gone" in page
    listing = admin_client.get("/admin/notifications/delivery/").content.decode()
    assert "SMTPServerDisconnected: gone" in listing


def test_failed_deliveries_can_be_sent_again(
    admin_client, smtp, run_jobs, mail_channel, django_capture_on_commit_callbacks, notifications_queue
):
    from django.utils import timezone

    failed = Delivery.objects.create(channel=mail_channel, status=DeliveryStatus.FAILED, attempts=6,
                                     payload={"event": "test", "at": timezone.now().isoformat()})  # fmt: skip
    sent = Delivery.objects.create(channel=mail_channel, status=DeliveryStatus.SENT,
                                   payload={"event": "test", "at": timezone.now().isoformat()})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/notifications/delivery/",
                          {"action": "retry", "_selected_action": [failed.pk, sent.pk]})  # fmt: skip
    run_jobs()
    assert len(smtp.messages) == 1  # the sent one is not sent twice
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (DeliveryStatus.SENT, 7)


def test_the_webhook_secret_is_write_only(admin_client, db):
    response = admin_client.post(
        f"{CHANNELS}add/",
        {"name": "Hook", "kind": "webhook", "enabled": "on", "webhook_url": "https://hooks.example.com/ainvr",
         "new_webhook_secret": "s3cret-hook-Zq8"},
    )  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    channel = Channel.objects.get()
    assert channel.webhook_secret == "s3cret-hook-Zq8"
    page = admin_client.get(f"{CHANNELS}{channel.pk}/change/").content.decode()
    assert "s3cret-hook-Zq8" not in page
    # Saving without typing a secret keeps it.
    admin_client.post(f"{CHANNELS}{channel.pk}/change/",
                      {"name": "Hook", "kind": "webhook", "enabled": "on",
                       "webhook_url": "https://hooks.example.com/ainvr", "new_webhook_secret": ""})  # fmt: skip
    channel.refresh_from_db()
    assert channel.webhook_secret == "s3cret-hook-Zq8"


def test_operators_cannot_send_test_notifications(operator_client, mail_channel, notifications_queue):
    action = {"action": "send_test_notification", "_selected_action": [mail_channel.pk]}
    response = operator_client.post(CHANNELS, action)
    assert response.status_code == 403
    assert not Delivery.objects.exists()


def test_an_after_hours_rule_is_made_in_the_admin(admin_client, camera, mail_channel):
    from datetime import time

    from notifications.models import Rule

    response = admin_client.post(
        "/admin/notifications/rule/add/",
        {"name": "Night people", "enabled": "on", "cameras": [camera.pk], "labels": ["person", "car"],
         "attendance_kinds": ["unknown_face"], "min_confidence": "0.7", "weekdays": ["0", "1", "2", "3", "4"],
         "active_from": "19:00", "active_until": "07:00", "cooldown_seconds": "600", "channels": [mail_channel.pk]},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = Rule.objects.get()
    assert (rule.labels, rule.attendance_kinds, rule.weekdays) == (["person", "car"], ["unknown_face"], [0, 1, 2, 3, 4])
    assert (rule.active_from, rule.active_until, rule.cooldown_seconds) == (time(19), time(7), 600)
    assert list(rule.cameras.all()) == [camera]


def test_a_rule_with_half_a_window_is_refused_with_a_message(admin_client, mail_channel):
    response = admin_client.post(
        "/admin/notifications/rule/add/",
        {"name": "Broken", "labels": ["person"], "min_confidence": "0.5", "weekdays": ["0"],
         "active_from": "19:00", "active_until": "", "cooldown_seconds": "60", "channels": [mail_channel.pk]},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Give both ends of the time window, or neither." in response.content.decode()
