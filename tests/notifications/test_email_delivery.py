"""A detection reaches a real SMTP server as a mail with text, HTML, the snapshot attached
and a link to the moment in playback."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile

from notifications.models import Delivery, DeliveryStatus
from notifications.services import notify_object_event

JPEG = b"\xff\xd8\xff\xe0" + b"snapshot-bytes" * 50 + b"\xff\xd9"


def test_a_person_at_the_gate_is_mailed_with_its_snapshot_and_playback_link(
    smtp, run_jobs, person_rule, object_event, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_URL = "https://nvr.example.com"
    at = datetime(2026, 3, 4, 14, 5, 6, tzinfo=ZoneInfo("Europe/Paris"))
    event = object_event(confidence=0.87, at=at)
    event.snapshot.save("gate.jpg", ContentFile(JPEG))

    with django_capture_on_commit_callbacks(execute=True):
        notify_object_event(event.pk)
    assert smtp.messages == []  # queued, not sent by the caller
    assert run_jobs()

    [mail] = smtp.messages
    assert mail["Subject"] == "[AINVR] Person at Gate"
    assert {a.strip() for a in mail["To"].split(",")} == {"desk@example.com", "boss@example.com"}
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Person (87 %) seen at Gate, 14:05:06 on Wed 04 Mar 2026." in text
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "image/jpeg"
    assert attachment.get_content() == JPEG

    link = next(word for word in text.split() if word.startswith("https://"))
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "nvr.example.com", "/playback/")
    assert parse_qs(parts.query) == {"camera": ["gate"], "at": ["2026-03-04T13:05:06Z"]}
    assert link.replace("&", "&amp;") in html

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.rule, delivery.camera) == (
        DeliveryStatus.SENT, 1, person_rule, event.camera,
    )  # fmt: skip
    assert delivery.attempt_log.get().ok


def test_an_attendance_snapshot_given_as_bytes_is_attached(
    smtp, run_jobs, camera, mail_channel, django_capture_on_commit_callbacks
):
    from attendance.models import Employee
    from notifications.models import Rule
    from notifications.services import notify_attendance_event

    rule = Rule.objects.create(name="Unknown faces", attendance_kinds=["unknown_face"])
    rule.channels.add(mail_channel)
    employee = Employee.objects.create(code="E7", name="Eve Example")
    with django_capture_on_commit_callbacks(execute=True):
        notify_attendance_event("unknown_face", employee_id=None, camera_id=camera.pk,
                                at=datetime(2026, 3, 4, 9, 0, tzinfo=ZoneInfo("UTC")), snapshot=JPEG)  # fmt: skip
        notify_attendance_event(
            "arrived",
            employee_id=employee.pk,
            camera_id=camera.pk,
            at=datetime(2026, 3, 4, 9, 0, tzinfo=ZoneInfo("UTC")),
        )  # fmt: skip  (no rule for it)
    run_jobs()

    [mail] = smtp.messages
    assert mail["Subject"] == "[AINVR] Unknown face at Gate"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content() == JPEG
