"""Enrolment of face photos: requests stored by the web process, embedded by an RQ job.

The web process never loads a model: `request_*` store a FaceEnrolment (the uploaded
photo, or the camera to grab a frame from) and enqueue `attendance.jobs.enrol_face` on
the "default" queue after commit. `enrol()` runs in the job: exactly one face that passes
the quality gates becomes a FaceTemplate; anything else is refused with its reason.

A photo is judged from its header (format, pixel count <= MAX_IMAGE_PIXELS) at upload and
again in the job before it is decoded: one 873 KB PNG of 30000x30000 pixels grew a worker
to 21 GB. A job whose process died (killed for memory, crashed) leaves its enrolment
pending with `started_at` set: `fail_stalled_enrolments` marks it failed, and a failed
enrolment can be retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
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
from cameras.probe import open_stream
from cameras.selectors import stream_url_for_worker
from core.media import IMAGE_FORMAT_NAMES, ImageRejected, check_image_header
from core.periodic import PeriodicTask

log = logging.getLogger("ainvr.attendance")

MAX_PHOTO_BYTES = 15 * 1024 * 1024
GRAB_TIMEOUT_SECONDS = 10.0
JOB_TIMEOUT_SECONDS = 120
# RQ stops a job at its timeout (the job then fails itself) and kills its process a minute
# later; one still pending well after that has lost its process without a word.
STALLED_AFTER = timedelta(seconds=JOB_TIMEOUT_SECONDS + 180)
STALLED = "The worker running this photo stopped without finishing (killed, e.g. out of memory, or crashed): retry it."


class EnrolmentRefused(Exception):
    """The photo cannot be enrolled; str(e) is the reason shown to the admin."""


def open_slots(employee) -> int:
    """How many more face photos the employee may get (templates plus pending requests)."""
    used = employee.face_templates.count() + employee.enrolments.filter(status=EnrolmentStatus.PENDING).count()
    return max(0, MAX_FACES_PER_EMPLOYEE - used)


def _enqueue_on_commit(enrolment: FaceEnrolment) -> None:
    enrolment_id = enrolment.pk
    transaction.on_commit(lambda: _enqueue(enrolment_id))


def _enqueue(enrolment_id: int) -> None:
    import django_rq

    try:
        # "auto": this already runs after the commit.
        django_rq.get_queue("default", commit_mode="auto").enqueue(
            "attendance.jobs.enrol_face",
            enrolment_id,
            job_timeout=JOB_TIMEOUT_SECONDS,
            description=f"enrol face {enrolment_id}",
        )
    except Exception as e:  # Redis down: say so instead of leaving it pending forever
        log.exception("enrolment %s could not be queued", enrolment_id)
        FaceEnrolment.objects.filter(pk=enrolment_id, status=EnrolmentStatus.PENDING).update(
            status=EnrolmentStatus.FAILED, reason=f"The job queue is unreachable: {e}"[:200], finished_at=timezone.now()
        )


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
    formats = []
    for upload in files:  # all judged before any is stored
        if upload.size > MAX_PHOTO_BYTES:
            raise ValidationError({"photos": f"{upload.name}: larger than {MAX_PHOTO_BYTES // 2**20} MB."})
        try:
            formats.append(check_image_header(upload, max_pixels=settings.MAX_IMAGE_PIXELS))
        except ImageRejected as e:
            raise ValidationError({"photos": f"{upload.name}: {e} (take a {IMAGE_FORMAT_NAMES} photo)."}) from None
    created = []
    for upload, header in zip(files, formats, strict=True):
        enrolment = FaceEnrolment(employee=employee)
        enrolment.photo.save(f"photo{header.extension}", upload, save=False)  # a random name (models)
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
    """The BGR picture in `data`; ImageRejected (from its header, before decoding) when it
    is not an image we take or has more than MAX_IMAGE_PIXELS, EnrolmentRefused when it
    cannot be decoded."""
    import cv2

    check_image_header(data, max_pixels=settings.MAX_IMAGE_PIXELS)
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


def claim_enrolment(enrolment_id: int) -> FaceEnrolment | None:
    """Mark a pending enrolment as taken up by this job (a conditional UPDATE): None when it
    is gone, finished, or another job has it."""
    updated = FaceEnrolment.objects.filter(
        pk=enrolment_id, status=EnrolmentStatus.PENDING, started_at__isnull=True
    ).update(started_at=timezone.now())
    if updated != 1:
        return None
    return FaceEnrolment.objects.select_related("employee", "camera").get(pk=enrolment_id)


def enrol(enrolment_id: int, *, backend=None, grab=grab_frame) -> FaceEnrolment | None:
    """Run one pending enrolment (in the RQ job): grab the frame when it comes from a
    camera, check the face, store the template. Never raises for a bad photo."""
    import cv2

    from attendance.recognition.backend import face_backend_from_settings

    fail_stalled_enrolments(now=timezone.now())  # those of a worker that died before us
    enrolment = claim_enrolment(enrolment_id)
    if enrolment is None:
        return FaceEnrolment.objects.filter(pk=enrolment_id).first()
    try:
        if enrolment.camera_id and enrolment.camera is not None and not enrolment.photo:
            image = grab(stream_url_for_worker(enrolment.camera, "main"))
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            enrolment.photo.save("capture.jpg", ContentFile(encoded.tobytes()), save=False)  # a random name
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
    except ImageRejected as rejected:
        # Failed, not refused: a photo stored before a lower limit can be retried after
        # MAX_IMAGE_PIXELS is raised.
        return _finish(enrolment, EnrolmentStatus.FAILED, f"photo not taken: {rejected}")
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


def fail_stalled_enrolments(*, now: datetime, stalled_after: timedelta = STALLED_AFTER) -> int:
    """Mark enrolments whose job started more than `stalled_after` ago and never finished
    as failed, with the reason shown on the face photos page. Returns how many."""
    count = FaceEnrolment.objects.filter(status=EnrolmentStatus.PENDING, started_at__lt=now - stalled_after).update(
        status=EnrolmentStatus.FAILED, reason=STALLED, finished_at=now
    )
    if count:
        log.warning("attendance: %d face enrolment(s) marked failed: their job died", count)
    return count


class StalledEnrolmentsTask(PeriodicTask):
    """Runs `fail_stalled_enrolments()` every `interval_s` seconds from the worker supervisor."""

    logger = log
    failure_message = "attendance: checking for stalled face enrolments failed"

    def __init__(self, *, interval_s: float = 60, clock: Callable[[], float] = time.monotonic, now=timezone.now):
        super().__init__(interval_s=interval_s, clock=clock)
        self.now = now

    def run(self) -> None:
        fail_stalled_enrolments(now=self.now())


@transaction.atomic
def retry_enrolment(enrolment: FaceEnrolment) -> FaceEnrolment:
    """Queue a failed enrolment again (its photo, or a new grab from its camera)."""
    employee = type(enrolment.employee).objects.select_for_update().get(pk=enrolment.employee_id)
    enrolment = FaceEnrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status != EnrolmentStatus.FAILED:
        raise ValidationError({"retry": "Only a failed photo can be retried."})
    if open_slots(employee) < 1:
        raise ValidationError({"retry": f"An employee has at most {MAX_FACES_PER_EMPLOYEE} face photos."})
    enrolment.status, enrolment.reason = EnrolmentStatus.PENDING, ""
    enrolment.started_at = enrolment.finished_at = None
    enrolment.save(update_fields=["status", "reason", "started_at", "finished_at"])
    _enqueue_on_commit(enrolment)
    return enrolment


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
