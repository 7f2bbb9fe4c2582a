"""Enrolment of face photos: requests stored by the web process, embedded by an RQ job.

The web process never loads a model: `request_*` store a FaceEnrolment (the uploaded
photo, or the camera to grab a frame from) and enqueue `attendance.jobs.enrol_face` on
the "default" queue after commit. `enrol()` runs in the job: exactly one face that passes
the quality gates becomes a FaceTemplate; anything else is refused with its reason.
"""

from __future__ import annotations

import logging

import numpy as np
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from attendance.models import (
    MAX_FACES_PER_EMPLOYEE,
    EnrolmentStatus,
    FaceEnrolment,
    FaceTemplate,
)

log = logging.getLogger("ainvr.attendance")

ACCEPTED_IMAGE_TYPES = {"jpg", "jpeg", "png", "webp", "bmp"}
MAX_PHOTO_BYTES = 15 * 1024 * 1024
GRAB_TIMEOUT_SECONDS = 10.0


class EnrolmentRefused(Exception):
    """The photo cannot be enrolled; str(e) is the reason shown to the admin."""


def open_slots(employee) -> int:
    """How many more face photos the employee may get (templates plus pending requests)."""
    used = employee.face_templates.count() + employee.enrolments.filter(status=EnrolmentStatus.PENDING).count()
    return max(0, MAX_FACES_PER_EMPLOYEE - used)


def _enqueue_on_commit(enrolment: FaceEnrolment) -> None:
    def enqueue():
        import django_rq

        django_rq.get_queue("default").enqueue(
            "attendance.jobs.enrol_face", enrolment.pk, job_timeout=120, description=f"enrol face {enrolment.pk}"
        )

    transaction.on_commit(enqueue)


@transaction.atomic
def request_upload_enrolments(employee, files) -> list[FaceEnrolment]:
    """Store 1-5 uploaded photos as pending enrolments and queue their embedding."""
    files = list(files)
    if not files:
        raise ValidationError({"photos": "Choose at least one photo."})
    type(employee).objects.select_for_update().get(pk=employee.pk)  # one request at a time per employee
    slots = open_slots(employee)
    if len(files) > slots:
        raise ValidationError(
            {"photos": f"An employee has at most {MAX_FACES_PER_EMPLOYEE} face photos; {slots} more can be added."}
        )
    for upload in files:
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if extension not in ACCEPTED_IMAGE_TYPES:
            raise ValidationError({"photos": f"{upload.name}: not a JPEG, PNG, WebP or BMP picture."})
        if upload.size > MAX_PHOTO_BYTES:
            raise ValidationError({"photos": f"{upload.name}: larger than {MAX_PHOTO_BYTES // 2**20} MB."})
    created = []
    for upload in files:
        enrolment = FaceEnrolment(employee=employee)
        enrolment.photo.save(f"employee-{employee.pk}.{upload.name.rsplit('.', 1)[-1].lower()}", upload, save=False)
        enrolment.save()
        _enqueue_on_commit(enrolment)
        created.append(enrolment)
    return created


@transaction.atomic
def request_camera_enrolment(employee, camera) -> FaceEnrolment:
    """Queue a job that grabs the camera's current frame and enrols the face in it."""
    type(employee).objects.select_for_update().get(pk=employee.pk)
    if open_slots(employee) < 1:
        raise ValidationError({"camera": f"An employee has at most {MAX_FACES_PER_EMPLOYEE} face photos."})
    if not camera.enabled:
        raise ValidationError({"camera": "This camera is disabled."})
    enrolment = FaceEnrolment.objects.create(employee=employee, camera=camera)
    _enqueue_on_commit(enrolment)
    return enrolment


def decode_image(data: bytes) -> np.ndarray:
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise EnrolmentRefused("not a picture that can be read")
    return image


def embed_single_face(backend, image: np.ndarray, gates=None) -> tuple[np.ndarray, float]:
    """The embedding and quality of the only face in `image`, or EnrolmentRefused."""
    from attendance.recognition.quality import QualityGates, Refusal

    gates = gates or QualityGates.from_settings(enrolment=True)
    faces = backend.detect(image)
    if not faces:
        raise EnrolmentRefused(Refusal.NO_FACE)
    if len(faces) > 1:
        raise EnrolmentRefused(Refusal.SEVERAL_FACES)
    refusal, quality = gates.check(image, faces[0].box)
    if refusal:
        raise EnrolmentRefused(refusal)
    return backend.embed(image, faces[0]), quality


def grab_frame(url: str, *, timeout: float = GRAB_TIMEOUT_SECONDS) -> np.ndarray:
    """One decoded BGR frame of the stream at `url` (the first whole picture after a keyframe)."""
    import time

    from cameras.capture import open_stream

    deadline = time.monotonic() + timeout
    with open_stream(url, open_timeout=timeout, read_timeout=timeout) as container:
        video = container.streams.video[0]
        started = False
        for packet in container.demux(video):
            if time.monotonic() > deadline:
                break
            started = started or bool(packet.is_keyframe)
            if not started:
                continue
            for frame in packet.decode():
                return frame.to_ndarray(format="bgr24")
    raise EnrolmentRefused("the camera sent no picture in time")


def _finish(enrolment: FaceEnrolment, status: str, reason: str = "", template=None) -> FaceEnrolment:
    enrolment.status = status
    enrolment.reason = reason[:200]
    enrolment.template = template
    enrolment.finished_at = timezone.now()
    enrolment.save(update_fields=["status", "reason", "template", "finished_at", "photo"])
    return enrolment


def enrol(enrolment_id: int, *, backend=None, grab=grab_frame) -> FaceEnrolment | None:
    """Run one pending enrolment (in the RQ job): grab the frame when it comes from a
    camera, check the face, store the template. Never raises for a bad photo."""
    import cv2

    from attendance.recognition.backend import face_backend_from_settings
    from cameras.selectors import stream_url_for_worker

    enrolment = FaceEnrolment.objects.select_related("employee", "camera").filter(pk=enrolment_id).first()
    if enrolment is None or enrolment.status != EnrolmentStatus.PENDING:
        return enrolment
    try:
        if enrolment.camera_id and not enrolment.photo:
            image = grab(stream_url_for_worker(enrolment.camera, "main"))
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            enrolment.photo.save(
                f"employee-{enrolment.employee_id}-{enrolment.camera.slug}.jpg",
                ContentFile(encoded.tobytes()),
                save=False,
            )
        elif not enrolment.photo:
            raise EnrolmentRefused("no photo")
        with enrolment.photo.open("rb") as stored:
            image = decode_image(stored.read())
        if enrolment.employee.face_templates.count() >= MAX_FACES_PER_EMPLOYEE:
            raise EnrolmentRefused(f"the employee already has {MAX_FACES_PER_EMPLOYEE} face photos")
        backend = backend or face_backend_from_settings()
        vector, quality = embed_single_face(backend, image)
    except EnrolmentRefused as refused:
        return _finish(enrolment, EnrolmentStatus.REFUSED, str(refused))
    except Exception as e:  # camera unreachable, model missing: say so on the admin page
        log.warning("enrolment %s failed", enrolment_id, exc_info=True)
        return _finish(enrolment, EnrolmentStatus.FAILED, f"{type(e).__name__}: {e}".splitlines()[0])
    with transaction.atomic():
        template = FaceTemplate.objects.create(
            employee=enrolment.employee,
            photo=enrolment.photo.name,
            embedding=np.asarray(vector, np.float32).tobytes(),
            model_name=backend.model_name,
            dimension=backend.dimension,
            quality=quality,
        )
        return _finish(enrolment, EnrolmentStatus.ACCEPTED, template=template)


def reembed_all(backend, *, stdout=None) -> tuple[int, list[tuple[int, str]]]:
    """Recompute every template with `backend` (after a model change). Returns (rebuilt,
    [(template id, reason)...]) for the photos the new model cannot use; those keep their
    old vector and model name, so they are simply not matched until replaced."""
    rebuilt, problems = 0, []
    for template in FaceTemplate.objects.select_related("employee").order_by("pk").iterator():
        try:
            with template.photo.open("rb") as stored:
                image = decode_image(stored.read())
            vector, quality = embed_single_face(backend, image)
        except (EnrolmentRefused, OSError, ValueError) as e:
            problems.append((template.pk, str(e)))
            continue
        FaceTemplate.objects.filter(pk=template.pk).update(
            embedding=np.asarray(vector, np.float32).tobytes(),
            model_name=backend.model_name,
            dimension=backend.dimension,
            quality=quality,
        )
        rebuilt += 1
    return rebuilt, problems
