"""Migrations cameras 0007 and notifications 0005: cameras and rules left at the old 0.5
default follow the model's calibrated threshold; values someone chose stay."""

from __future__ import annotations

import importlib

from django.apps import apps

from cameras.models import Camera
from notifications.models import Rule

cameras_0007 = importlib.import_module("cameras.migrations.0007_ai_confidence_from_the_model")
rules_0005 = importlib.import_module("notifications.migrations.0005_rules_notify_every_real_object")


def test_the_old_default_follows_the_model_and_chosen_values_stay(camera):
    other = Camera.objects.create(name="Yard", slug="yard", stream_url="rtsp://192.0.2.11/main", ai_confidence=0.7)
    Camera.objects.filter(pk=camera.pk).update(ai_confidence=0.5)
    cameras_0007.old_default_to_model_default(apps, None)
    assert Camera.objects.get(pk=camera.pk).ai_confidence is None
    assert Camera.objects.get(pk=other.pk).ai_confidence == 0.7
    cameras_0007.model_default_to_old_default(apps, None)  # and back
    assert Camera.objects.get(pk=camera.pk).ai_confidence == 0.5


def test_rules_at_the_old_default_notify_every_real_object(db):
    old = Rule.objects.create(name="Old", labels=["person"], min_confidence=0.5)
    chosen = Rule.objects.create(name="Sure ones", labels=["person"], min_confidence=0.8)
    rules_0005.old_default_to_zero(apps, None)
    assert Rule.objects.get(pk=old.pk).min_confidence == 0.0
    assert Rule.objects.get(pk=chosen.pk).min_confidence == 0.8
