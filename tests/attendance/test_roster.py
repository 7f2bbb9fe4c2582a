"""The roster the worker matches against: what it loads, and a signature that changes
whenever the worker must reload."""

from __future__ import annotations

import numpy as np

from attendance.models import FaceTemplate
from attendance.selectors import load_roster, roster_signature

MODEL = "sface-2021dec-int8bq"


def add_template(employee, vector, model=MODEL):
    vector = np.asarray(vector, np.float32)
    return FaceTemplate.objects.create(
        employee=employee, photo="faces/x.jpg", embedding=vector.tobytes(), model_name=model, dimension=len(vector)
    )


def test_it_loads_active_employees_templates_of_this_model_only(employee_factory):
    grace, eileen, retired = (
        employee_factory("Grace"),
        employee_factory("Eileen"),
        employee_factory("Old", active=False),
    )
    add_template(grace, np.eye(128)[0])
    add_template(grace, np.eye(128)[1])
    add_template(eileen, np.eye(128)[2])
    add_template(retired, np.eye(128)[3])
    add_template(eileen, np.eye(512)[0], model="arcface")
    vectors, owners = load_roster(MODEL, 128)
    assert vectors.shape == (3, 128) and sorted(owners.tolist()) == sorted([grace.pk, grace.pk, eileen.pk])
    assert load_roster("nothing", 128)[0].shape == (0, 128)


def test_the_signature_changes_on_add_delete_and_deactivation(employee_factory):
    grace, eileen = employee_factory("Grace"), employee_factory("Eileen")
    seen = [roster_signature(MODEL)]
    first = add_template(grace, np.eye(128)[0])
    seen.append(roster_signature(MODEL))
    add_template(eileen, np.eye(128)[1])
    seen.append(roster_signature(MODEL))
    first.delete()
    seen.append(roster_signature(MODEL))
    eileen.active = False
    eileen.save()
    seen.append(roster_signature(MODEL))
    assert all(before != after for before, after in zip(seen, seen[1:], strict=False))
    assert roster_signature(MODEL) == seen[-1]  # and stays put when nothing changes


def test_the_panel_script_is_served(admin_client):
    from django.contrib.staticfiles import finders

    assert finders.find("attendance/panel.js")
