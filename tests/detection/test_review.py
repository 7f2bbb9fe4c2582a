"""Review items: the objects a camera saw together, alert or detection by the camera's alert
settings, reviewed per user; and the Review page over them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cameras.models import Zone
from detection.models import ReviewItem, Severity
from detection.selectors import unreviewed_alert_count
from detection.services import mark_reviewed, start_object_event, update_object_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def spare_camera(db):
    from cameras.models import Camera
    from cameras.services import save_camera

    return save_camera(Camera(name="Spare", slug="spare", stream_url="rtsp://192.0.2.30:554/main"))


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(
        "detection.services.broadcast_on_commit", lambda group, event, payload: messages.append((event, payload))
    )
    return messages


def seen(camera, label, at, *, seconds=3, zones=(), track=1):
    """A live object from `at` for `seconds`, as the tracker writes it: started, then updated."""
    event = start_object_event(
        camera=camera, label=label, confidence=0.8, box=[0.1, 0.1, 0.3, 0.8], track_id=track, at=at
    )
    return update_object_event(
        event.pk, label=label, confidence=0.8, box=[0.1, 0.1, 0.3, 0.8], end=at + timedelta(seconds=seconds),
        zones=list(zones),
    )  # fmt: skip


def test_objects_seen_together_are_one_item_and_a_later_one_another(camera, spare_camera, sent):
    t0 = timezone.now() - timedelta(hours=1)
    a = seen(camera, "person", t0, seconds=20)
    b = seen(camera, "car", t0 + timedelta(seconds=5), track=2)
    c = seen(camera, "dog", t0 + timedelta(seconds=28), track=3)  # 8 s after the span's end: the same visit
    d = seen(camera, "person", t0 + timedelta(minutes=5), track=4)  # another visit
    e = seen(spare_camera, "person", t0 + timedelta(seconds=5), track=5)  # another camera
    assert a.review_item_id == b.review_item_id == c.review_item_id
    assert len({a.review_item_id, d.review_item_id, e.review_item_id}) == 3
    item = ReviewItem.objects.get(pk=a.review_item_id)
    assert (item.start, item.end) == (t0, t0 + timedelta(seconds=31))
    assert item.labels == ["car", "dog", "person"]


def test_an_item_is_an_alert_by_the_cameras_classes(camera, sent):
    t0 = timezone.now() - timedelta(hours=1)
    car = seen(camera, "car", t0)
    assert car.review_item.severity == Severity.DETECTION
    person = seen(camera, "person", t0 + timedelta(seconds=1), track=2)  # joins: the item becomes an alert
    assert person.review_item_id == car.review_item_id
    assert ReviewItem.objects.get(pk=car.review_item_id).severity == Severity.ALERT
    assert [e for e, _ in sent].count("review.alert") == 1
    payload = next(p for e, p in sent if e == "review.alert")
    assert (payload["camera"], payload["labels"]) == ("Gate", ["car", "person"])  # its name, not its slug


def test_with_alert_zones_only_an_object_in_one_is_an_alert_and_it_is_told_once(camera, sent, monkeypatch):
    notified = []
    monkeypatch.setattr("notifications.services.notify_object_event", notified.append)
    Zone.objects.create(camera=camera, name="Yard", points=[[0, 0.5], [1, 0.5], [1, 1], [0, 1]], alert=True)
    Zone.objects.create(camera=camera, name="Street", points=[[0, 0], [1, 0], [1, 0.5], [0, 0.5]])
    t0 = timezone.now() - timedelta(hours=1)
    outside = seen(camera, "person", t0, zones=["Street"])
    assert outside.review_item.severity == Severity.DETECTION
    assert not [e for e, _ in sent if e == "review.alert"] and notified == []
    # The same person walks into the yard: the item becomes an alert, told once.
    for second in (5, 6, 7):
        update_object_event(
            outside.pk, label="person", confidence=0.8, box=[0.1, 0.5, 0.3, 0.9], end=t0 + timedelta(seconds=second),
            zones=["Street", "Yard"],
        )  # fmt: skip
    item = ReviewItem.objects.get(pk=outside.review_item_id)
    assert (item.severity, item.zones) == (Severity.ALERT, ["Street", "Yard"])
    assert [e for e, _ in sent].count("review.alert") == 1
    assert notified == [outside.pk]  # one notification, for the object that made the alert


def test_each_user_reviews_for_themself(camera, admin_user, operator_user, sent):
    t0 = timezone.now() - timedelta(hours=1)
    items = [seen(camera, "person", t0 + timedelta(minutes=i), track=i).review_item_id for i in range(3)]
    assert unreviewed_alert_count(admin_user) == unreviewed_alert_count(operator_user) == 3
    assert mark_reviewed(admin_user, items[:2]) == 2
    assert mark_reviewed(admin_user, items[:2]) == 0  # already
    assert (unreviewed_alert_count(admin_user), unreviewed_alert_count(operator_user)) == (1, 3)


# --- the page ---------------------------------------------------------------------------
def test_the_review_page_lists_alerts_a_page_at_a_time_and_marks_them(operator_client, camera, operator_user, sent):
    t0 = timezone.now() - timedelta(hours=3)
    for i in range(40):
        seen(camera, "person", t0 + timedelta(minutes=i), track=i)
    seen(camera, "car", t0 + timedelta(minutes=50), track=99)
    page = operator_client.get("/review/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("data-review-item=") == 30  # a page, never the whole day
    assert "1–30 of 40" in html and "page=2" in html
    assert "person</strong> on Gate" in html
    assert "car</strong>" not in html  # a detection: the other tab
    assert "car</strong> on Gate" in operator_client.get("/review/?severity=detection").content.decode()

    newest = list(ReviewItem.objects.filter(severity=Severity.ALERT).order_by("-start").values_list("pk", flat=True))
    marked = operator_client.post("/review/mark/", {"item": [newest[0], newest[1]], "next": "/review/"})
    assert marked.status_code == 302 and marked["Location"] == "/review/"
    assert unreviewed_alert_count(operator_user) == 38
    shown = operator_client.get("/review/").content.decode()
    assert f'data-review-item="{newest[0]}"' not in shown and "1–30 of 38" in shown
    assert f'data-review-item="{newest[0]}"' in operator_client.get("/review/?reviewed=yes").content.decode()
    # "Mark all shown": the 30 the page listed.
    operator_client.post("/review/mark/", {"all": "1", "shown": newest[2:32], "next": "/review/?severity=alert"})
    assert unreviewed_alert_count(operator_user) == 8


def test_the_review_page_filters_and_names_a_bad_filter(operator_client, camera, spare_camera, sent):
    t0 = timezone.now() - timedelta(hours=1)
    seen(camera, "person", t0, zones=["Yard"])
    seen(spare_camera, "person", t0, track=2)
    assert operator_client.get("/review/?camera=spare").content.decode().count("data-review-item=") == 1
    assert operator_client.get("/review/?zone=Yard").content.decode().count("data-review-item=") == 1
    assert operator_client.get("/review/?label=car").content.decode().count("data-review-item=") == 0
    assert operator_client.get("/review/?label=person").content.decode().count("data-review-item=") == 2
    day = timezone.localtime(t0).date().isoformat()
    assert operator_client.get(f"/review/?day={day}").content.decode().count("data-review-item=") == 2
    bad = operator_client.get("/review/?day=yesterday&reviewed=maybe")
    assert bad.status_code == 400
    assert "day: Give a day" in bad.content.decode() and "reviewed:" in bad.content.decode()


def test_the_review_page_is_for_signed_in_users(client, db):
    assert client.get("/review/").status_code == 302
    assert client.post("/review/mark/", {"item": [1]}).status_code == 302
