"""What a notification says: title, text and links, built from a Delivery's payload (which
holds everything needed, so a notification survives the deletion of what it was about)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

KIND_TITLES = {
    "object": "{label} at {camera}",
    "absence": "{employee} is away",
    "resolved": "{employee} is back",
    "unknown_face": "Unknown face at {camera}",
    "arrived": "{employee} arrived",
    "test": "Test notification from AINVR",
    "camera_offline": "{camera} is offline",
    "camera_online": "{camera} is back online",
    "storage_low": "Storage is running out: {subject}",
    "storage_ok": "Storage is fine again: {subject}",
    "stage_down": "{subject} is down",
    "stage_up": "{subject} is running again",
}
HEALTH_EVENTS = {"camera_offline", "camera_online", "storage_low", "storage_ok", "stage_down", "stage_up"}


@dataclass(frozen=True)
class Message:
    event: str
    title: str
    text: str
    at: datetime
    url: str  # absolute: the moment in playback, else the site
    tag: str  # groups push notifications of one rule and camera on a phone


def playback_path(camera_slug: str, at: datetime) -> str:
    """The web helper's playback page at the moment `at` (UTC, second precision)."""
    moment = at.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    return "/playback/?" + urlencode({"camera": camera_slug, "at": moment})


def absolute(path: str) -> str:
    return settings.PUBLIC_URL + path


def describe(payload: dict) -> Message:
    event = payload.get("event", "test")
    at = cast(datetime, parse_datetime(payload["at"]))  # written by us (isoformat): always parses
    camera = payload.get("camera") or {}
    obj = payload.get("object") or {}
    employee = payload.get("employee") or {}
    alert = payload.get("alert") or {}
    health = payload.get("health") or {}
    names = {
        "subject": health.get("title") or "AINVR",
        "label": (obj.get("label") or "object").capitalize(),
        "camera": camera.get("name") or "an unknown camera",
        "employee": employee.get("name") or "An employee",
    }
    title = KIND_TITLES.get(event, "AINVR notification").format(**names)
    when = timezone.localtime(at).strftime("%H:%M:%S on %a %d %b %Y")
    place = f" at {camera['name']}" if camera.get("name") else ""
    if event in HEALTH_EVENTS:
        since = parse_datetime(health["since"]) if health.get("since") else None
        if health.get("state") == "back":
            text = f"Back to normal at {when}"
            text += f" (the alert was sent {timezone.localtime(since):%H:%M:%S})." if since else "."
        else:
            text = health.get("detail") or "Something is wrong."
            if since:
                text += f" Since {timezone.localtime(since):%H:%M:%S on %a %d %b %Y}."
    elif event == "object":
        text = f"{names['label']} ({round(100 * obj.get('confidence', 0))} %) seen{place}, {when}."
    elif event == "test":
        text = f"The channel works: this test was sent {when}."
    elif event == "unknown_face":
        text = f"A face nobody is enrolled with was seen{place}, {when}."
    elif event == "arrived":
        text = f"{names['employee']} was seen{place}, {when}."
    elif event == "absence":
        text = alert.get("message") or f"{names['employee']} has been away since {when}."
        if camera.get("name"):
            text += f" Last seen at {camera['name']}."
    else:  # resolved
        text = f"{names['employee']} is back{place}, {when}."
        if alert.get("message"):
            text += f" ({alert['message']})"
    rule = payload.get("rule") or {}
    if rule.get("name"):
        text += f"\nRule: {rule['name']}."
    if camera.get("slug"):
        url = absolute(playback_path(camera["slug"], at))
    elif event in HEALTH_EVENTS:
        url = absolute("/admin/ops/systemstatus/")
    else:
        url = absolute("/")
    tag = f"ainvr-{rule.get('id', 'test')}-{camera.get('slug', 'none')}"
    return Message(event=event, title=title, text=text, at=at, url=url, tag=tag)
