"""RQ jobs of the attendance app (queue "default"). Thin: the work is in attendance.enrolment."""

from __future__ import annotations

from attendance.enrolment import enrol


def enrol_face(enrolment_id: int) -> str:

    enrolment = enrol(enrolment_id)
    return enrolment.status if enrolment else "missing"
