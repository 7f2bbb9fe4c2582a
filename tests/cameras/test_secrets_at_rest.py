"""Camera credentials are encrypted at rest with a key that is not in the database
(issue 15, finding 10): a database dump shows no camera password, the workers decrypt
only in memory, a wrong key puts the camera in error instead of a crash loop, and the
key can be rotated."""

from __future__ import annotations

import os
import stat
import time

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from cameras import secrets
from cameras.models import Camera
from cameras.selectors import stream_url_for_worker
from cameras.services import save_camera
from pipeline.forkserver import ProcessHandle
from pipeline.processes.capture import CaptureConfig
from pipeline.reports import StatusReport, drain
from pipeline.specs import CameraSpec, CameraStates
from pipeline.supervisor import camera_spec
from tests.conftest import CAMERA_PASSWORD, CAMERA_USERNAME

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def stored_columns(camera: Camera) -> tuple[str, str]:
    """What the database itself holds, read with SQL (as a dump or a leaked backup would)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT username, password FROM cameras_camera WHERE id = %s", [camera.pk])
        return cursor.fetchone()


def test_the_password_column_holds_no_plain_text(camera):
    username, password = stored_columns(camera)

    assert CAMERA_PASSWORD not in password and CAMERA_USERNAME not in username
    assert password.startswith("gAAAAA") and username.startswith("gAAAAA")  # Fernet tokens
    camera.refresh_from_db()
    assert (camera.username, camera.password) == (CAMERA_USERNAME, CAMERA_PASSWORD)


def test_the_worker_gets_the_plain_credentials_in_memory_only(camera):
    spec = camera_spec(Camera.objects.get(pk=camera.pk))

    assert spec.main_url == f"rtsp://{CAMERA_USERNAME}:s3cr3t-Zx9%21pw@192.0.2.10:554/main"
    assert spec.credentials_error == ""
    assert CAMERA_PASSWORD not in repr(spec) and "Zx9" not in repr(spec)


def test_the_same_password_encrypts_differently_each_time(db):
    a = save_camera(Camera(name="A", slug="a", stream_url="rtsp://192.0.2.1/x"), password="same-Pass-1")
    b = save_camera(Camera(name="B", slug="b", stream_url="rtsp://192.0.2.2/x"), password="same-Pass-1")
    assert stored_columns(a)[1] != stored_columns(b)[1]


def test_a_key_file_is_made_on_first_use_readable_by_its_owner_only(db, settings, tmp_path):
    settings.SECRETS_KEYS = []
    settings.SECRETS_KEY_PATH = tmp_path / "secrets.key"

    camera = save_camera(Camera(name="A", slug="a", stream_url="rtsp://192.0.2.1/x"), password="file-Key-Pw")

    mode = stat.S_IMODE(os.stat(settings.SECRETS_KEY_PATH).st_mode)
    assert mode == 0o600
    Fernet(settings.SECRETS_KEY_PATH.read_text().strip())  # a valid key
    assert Camera.objects.get(pk=camera.pk).password == "file-Key-Pw"


def test_with_the_wrong_key_the_camera_goes_to_error_with_a_clear_message(camera, settings):
    settings.SECRETS_KEYS = [NEW_KEY]  # not the key the fixture's camera was saved with

    spec = camera_spec(Camera.objects.get(pk=camera.pk))

    assert spec.credentials_error == "cannot decrypt camera credentials: SECRETS_KEY does not match"
    assert spec.main_url == "rtsp://192.0.2.10:554/main"  # no credentials, no crash
    with pytest.raises(secrets.CredentialsUnreadable, match="SECRETS_KEY does not match"):
        stream_url_for_worker(Camera.objects.get(pk=camera.pk))


def test_a_capture_process_with_undecryptable_credentials_reports_and_waits_instead_of_crash_looping(tmp_path):
    spec = CameraSpec(
        id=7,
        slug="porch",
        name="Porch",
        main_url="rtsp://192.0.2.10/main",
        detect_url="rtsp://192.0.2.10/main",
        record=True,
        segment_seconds=1,
        credentials_error=secrets.MISMATCH,
    )
    handle = ProcessHandle(spec, CaptureConfig(recordings_root=str(tmp_path / "rec")))
    messages = []
    try:
        deadline = time.monotonic() + 30
        while not messages and time.monotonic() < deadline:
            drain(handle.reports, messages.append)
            time.sleep(0.05)
        assert messages == [StatusReport(7, CameraStates.ERROR, {"last_error": secrets.MISMATCH})]
        assert handle.is_alive()  # it waits to be stopped: the supervisor has nothing to restart
        handle.request_stop()
        assert handle.join(15)
        assert handle.exitcode == 0
    finally:
        if handle.is_alive():
            handle.kill()
    assert not (tmp_path / "rec").exists()  # it opened nothing


def test_the_admin_says_when_the_credentials_cannot_be_decrypted(camera, admin_client, settings):
    settings.SECRETS_KEYS = [NEW_KEY]

    page = admin_client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    assert "cannot decrypt camera credentials: SECRETS_KEY does not match" in page

    response = admin_client.post(
        "/admin/cameras/camera/", {"action": "test_connection", "_selected_action": [camera.pk]}, follow=True
    )
    shown = [m.message for m in response.context["messages"]]
    assert any("cannot decrypt camera credentials: SECRETS_KEY does not match" in m for m in shown), shown


def test_rotation_re_encrypts_every_camera_with_the_first_key(db, settings):
    settings.SECRETS_KEYS = [OLD_KEY]
    camera = save_camera(Camera(name="A", slug="a", stream_url="rtsp://192.0.2.1/x"), username="u1", password="p1")
    before = stored_columns(camera)

    settings.SECRETS_KEYS = [NEW_KEY, OLD_KEY]
    call_command("rotate_secrets", stdout=open(os.devnull, "w"))

    after = stored_columns(camera)
    assert after != before
    new_only = Fernet(NEW_KEY.encode())
    assert (new_only.decrypt(after[0].encode()), new_only.decrypt(after[1].encode())) == (b"u1", b"p1")
    settings.SECRETS_KEYS = [NEW_KEY]  # the old key can go
    assert Camera.objects.get(pk=camera.pk).password == "p1"


def test_rotation_without_the_old_key_changes_nothing_and_says_why(db, settings):
    settings.SECRETS_KEYS = [OLD_KEY]
    camera = save_camera(Camera(name="Gate", slug="gate", stream_url="rtsp://192.0.2.1/x"), password="p1")
    save_camera(Camera(name="Yard", slug="yard", stream_url="rtsp://192.0.2.2/x"))  # no credentials
    before = stored_columns(camera)

    settings.SECRETS_KEYS = [NEW_KEY]
    with pytest.raises(CommandError, match=r"SECRETS_KEY does not match \(camera 'Gate'\)"):
        call_command("rotate_secrets")
    assert stored_columns(camera) == before


CREATE_CAMERA = """
from cameras.models import Camera
from cameras.services import save_camera
save_camera(Camera(name="Gate", slug="gate", stream_url="rtsp://192.0.2.1/x"), username="u", password="p")
"""


def test_the_rotation_command_exits_1_with_one_line_when_the_old_key_is_missing(install):
    made = install.manage("shell", "-c", CREATE_CAMERA, SECRETS_KEY=OLD_KEY)
    assert made.returncode == 0, made.stderr

    refused = install.manage("rotate_secrets", SECRETS_KEY=NEW_KEY)
    assert refused.returncode == 1
    # One line, no traceback (log lines of other apps' start-up may come before it).
    assert "Traceback" not in refused.stderr, refused.stderr
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .startswith("CommandError: cannot decrypt camera credentials: SECRETS_KEY does not match (camera 'Gate')")
    )

    rotated = install.manage("rotate_secrets", SECRETS_KEY=f"{NEW_KEY},{OLD_KEY}")
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted the credentials of 1 camera(s)" in rotated.stdout
    assert install.manage("rotate_secrets", SECRETS_KEY=NEW_KEY).returncode == 0  # the old key is no longer needed


def test_the_rotation_command_generates_a_key(capsys):
    call_command("rotate_secrets", "--generate-key")
    Fernet(capsys.readouterr().out.strip())


def test_the_migration_encrypts_plain_values_in_place_and_its_reverse_decrypts_them(db):
    from importlib import import_module

    migration = import_module("cameras.migrations.0004_camera_credentials_encrypted")
    camera = save_camera(Camera(name="Old", slug="old", stream_url="rtsp://192.0.2.1/x"))
    with connection.cursor() as cursor:  # as an install from before the migration left it
        cursor.execute(
            "UPDATE cameras_camera SET username = %s, password = %s WHERE id = %s", ["old-User", "old-Pw-1", camera.pk]
        )

    migration.encrypt_existing(apps, None)

    username, password = stored_columns(camera)
    assert "old-User" not in username and "old-Pw-1" not in password
    assert (Camera.objects.get(pk=camera.pk).username, Camera.objects.get(pk=camera.pk).password) == (
        "old-User",
        "old-Pw-1",
    )
    migration.decrypt_existing(apps, None)
    assert stored_columns(camera) == ("old-User", "old-Pw-1")


@pytest.mark.django_db(transaction=True)
def test_runworkers_puts_the_camera_in_error_once_and_does_not_restart_it(camera, settings):
    from cameras.models import CameraState, CameraStatus
    from pipeline.supervisor import Supervisor
    from tests.waiting import wait_for

    settings.SECRETS_KEYS = [NEW_KEY]  # the database came from an installation with another key
    ticks = iter(range(10**6))
    # Every call one second later: each step refreshes, and a restart would be due at once.
    supervisor = Supervisor(host="secrets-test", refresh_s=0.5, clock=lambda: float(next(ticks)))
    try:

        def in_error():
            supervisor.step()
            status = CameraStatus.objects.filter(camera=camera).first()
            return status is not None and status.state == CameraState.ERROR and status

        status = wait_for(in_error, 60, "the camera in error")
        assert status.last_error == "cannot decrypt camera credentials: SECRETS_KEY does not match"
        [slot] = supervisor.slots.values()
        first = slot.handle
        for _ in range(20):  # 20 refreshes and tends: the process is neither restarted nor replaced
            supervisor.step()
        assert slot.handle is first and first.is_alive()
    finally:
        supervisor.stop()
