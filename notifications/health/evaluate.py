"""What the health check changes: the troubles it records and the notifications they cause.

`record(troubles, looked, now)` keeps one HealthCondition per trouble seen now, from when it
began; `notify(now)` sends, per health rule, a "down" for each condition that has lasted the
rule's `health_after_seconds` (claimed through the rule's cooldown, so a flapping camera
notifies at most once per cooldown) and a "back" for each "down" whose condition has ended.
Both are safe to run in two processes at once: unique rows and conditional deletes decide
which one notifies.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

from notifications.matching import Trigger, matches
from notifications.models import HEALTH_RECOVERY, Delivery, HealthAlert, HealthCondition, HealthTrigger, Rule
from notifications.services import camera_info, claim_cooldown, enabled_channels, queue_for_rule

log = logging.getLogger("ainvr.health")


def record(troubles, looked: set[str], now: datetime) -> None:
    """Store the troubles seen now; end the conditions of the kinds `looked` at that are gone."""
    current = {c.subject: c for c in HealthCondition.objects.filter(kind__in=looked)}
    for trouble in troubles:
        since = min(trouble.since or now, now)
        condition = current.get(trouble.subject)
        if condition is None:
            try:
                with transaction.atomic():
                    HealthCondition.objects.create(
                        subject=trouble.subject, kind=trouble.kind, camera_id=trouble.camera_id,
                        title=trouble.title[:200], detail=trouble.detail, since=since,
                    )  # fmt: skip
            except IntegrityError:  # another process recorded it first
                pass
            continue
        # A restarting stage reports each new death as its `since`: the trouble began earlier.
        fields = {"title": trouble.title[:200], "detail": trouble.detail, "since": min(condition.since, since)}
        if any(getattr(condition, k) != v for k, v in fields.items()):
            HealthCondition.objects.filter(pk=condition.pk).update(**fields)
    seen = {t.subject for t in troubles}
    ended = [subject for subject in current if subject not in seen]
    if ended:
        HealthCondition.objects.filter(subject__in=ended).delete()


def notify(now: datetime) -> list[Delivery]:
    """The "down" and "back" notifications due now. Returns the deliveries made."""
    made: list[Delivery] = []
    conditions = list(HealthCondition.objects.select_related("camera"))
    rules = [r for r in Rule.objects.filter(enabled=True).prefetch_related("cameras", "channels") if r.health_kinds]
    sent = set(HealthAlert.objects.values_list("rule_id", "subject"))
    for rule in rules:
        camera_ids = {c.pk for c in rule.cameras.all()}
        for condition in conditions:
            if (rule.pk, condition.subject) in sent:
                continue
            if (now - condition.since).total_seconds() < rule.health_after_seconds:
                continue
            trigger = Trigger(kind=condition.kind, at=now, camera_id=condition.camera_id,
                              subject=f"health:{condition.subject}")  # fmt: skip
            if not matches(rule, trigger, camera_ids):
                continue
            channels = enabled_channels(rule)
            if not channels or not claim_cooldown(rule, trigger, now=now):
                continue
            try:
                with transaction.atomic():
                    HealthAlert.objects.create(
                        rule=rule, subject=condition.subject, kind=condition.kind, camera_id=condition.camera_id,
                        title=condition.title, sent_at=now,
                    )  # fmt: skip
            except IntegrityError:  # another process sent this one
                continue
            payload = _payload(condition.kind, now, condition.camera, condition.subject, condition.title,
                               condition.detail, since=condition.since, state="down")  # fmt: skip
            made += queue_for_rule(rule, channels, condition.camera_id, payload)
    made += _recoveries(now, {c.subject for c in conditions})
    return made


def _recoveries(now: datetime, still_wrong: set[str]) -> list[Delivery]:
    made: list[Delivery] = []
    ended = HealthAlert.objects.exclude(subject__in=still_wrong).select_related("camera")
    for alert in ended:
        # The conditional delete is the claim: one "back" per "down", whoever gets here first.
        if not HealthAlert.objects.filter(pk=alert.pk).delete()[0]:
            continue
        if alert.kind == HealthTrigger.CAMERA_OFFLINE and (alert.camera is None or not alert.camera.enabled):
            continue  # deleted or switched off, not back: nothing to tell
        rule = Rule.objects.filter(pk=alert.rule_id, enabled=True, notify_recovery=True).first()
        channels = enabled_channels(rule) if rule is not None else []
        if rule is None or not channels:
            continue
        payload = _payload(HEALTH_RECOVERY[alert.kind], now, alert.camera, alert.subject, alert.title,
                           "", since=alert.sent_at, state="back")  # fmt: skip
        made += queue_for_rule(rule, channels, alert.camera_id, payload)
    return made


def _payload(event: str, now: datetime, camera, subject: str, title: str, detail: str, *, since, state) -> dict:
    return {
        "event": event,
        "at": now.isoformat(),
        "camera": camera_info(camera),
        "health": {"subject": subject, "title": title, "detail": detail, "state": state,
                   "since": since.isoformat()},
    }  # fmt: skip
