"""A real site for the browser tests: daphne serving the test database on a free port,
`manage.py runworkers` recording two RTSP test servers (a clock in blocks on "gate"; the demo clip of
people on "lobby", whose detector draws the live boxes), an RQ worker of the "analysis" queue,
and Debian's chromium driven by Playwright (never a browser Playwright downloads).

Everything is module-scoped (starting it costs seconds), so the data is committed to the
test database for the other processes to see and flushed when the module ends.
Screenshots go to $AINVR_TEST_ARTIFACTS (default <repo>/test-artifacts/browser).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import waiting
from tests.installs import REPO
from tests.rtsp import RtspServer, available

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
PASSWORD = "correct-horse-battery-staple-42"
# The frame size of the "gate" test camera, whose frames carry the clock the latency test reads.
CLOCK_SIZE = (640, 360)
ARTIFACTS = Path(os.environ.get("AINVR_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    """tests.waiting.wait_for, polling the page less often (each look is a round trip to it)."""
    return waiting.wait_for(condition, timeout, what, interval)


def child_database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@dataclass
class Site:
    url: str
    data_dir: Path
    logs: Path
    rtsp: RtspServer
    people: RtspServer
    processes: list = field(default_factory=list)

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.logs.glob("*.log")))


def _start_daphne(env: dict, log: Path) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0", "ainvr.asgi:application"],
        cwd=REPO,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def port():
        found = re.search(r"Listening on TCP address 127\.0\.0\.1:(\d+)", log.read_text())
        if process.poll() is not None:
            raise AssertionError(f"daphne exited:\n{log.read_text()}")
        return int(found.group(1)) if found else None

    return process, wait_for(port, 60, "daphne listening")


def _dropped(made) -> bool:
    from django.db import OperationalError
    from django.test.utils import teardown_databases

    try:
        teardown_databases(made, verbosity=0)
    except OperationalError:
        return False
    return True


@pytest.fixture(scope="module")
def test_database(django_db_setup, django_db_blocker):
    """The test database, committed to for real. pytest-django creates it only when some
    collected test is marked django_db; these tests are not (each would be wrapped in a
    transaction, or flushed, and the other processes would not see the data)."""
    from django.db import connection, connections
    from django.test.utils import setup_databases

    with django_db_blocker.unblock():
        made = None
        if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
            made = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        yield
        if made is not None:
            connections.close_all()
            # PostgreSQL may still be ending the other processes' sessions for a moment.
            wait_for(lambda: _dropped(made), 20, "the test database dropped")


@pytest.fixture(scope="module")
def site(test_database, django_db_blocker, tmp_path_factory):
    """The running site. Yields a Site; the operator 'bob', the admin 'alice', the camera 'gate'
    (the clock pattern, AI off) and the camera 'lobby' (people, the default detector on) exist."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium): scripts/test installs it")
    ok, reason = available()
    if not ok:
        pytest.fail(reason, pytrace=False)
    from django.core.management import call_command

    from accounts.models import Role, User
    from cameras.demo import make_demo_clip
    from cameras.models import Camera, DashboardLayout, DashboardSlot
    from cameras.services import save_camera

    base = tmp_path_factory.mktemp("site")
    data_dir, logs = base / "data", base / "logs"
    data_dir.mkdir()
    logs.mkdir()
    # Its frames carry the wall clock at which each was made: glass-to-glass latency reads it.
    rtsp = RtspServer(pattern="clock", width=CLOCK_SIZE[0], height=CLOCK_SIZE[1], fps=15, gop=15, bitrate=800).start()
    # Long enough for the live boxes and the analysis job; at its end the camera reconnects.
    clip = make_demo_clip(base / "people.mp4", seconds=60, fps=10, width=640, height=360)
    people = RtspServer(clip=clip, width=640, height=360, fps=10).start()
    site = Site(url="", data_dir=data_dir, logs=logs, rtsp=rtsp, people=people)
    with django_db_blocker.unblock():
        User.objects.create_user("bob", "bob@example.com", PASSWORD, role=Role.OPERATOR)
        User.objects.create_user("alice", "alice@example.com", PASSWORD, role=Role.ADMIN)
        # The clock shows nothing to detect: AI off, the two CPUs go to the camera that has people.
        # Gate has a sub-stream (the same stream, a second session): grid tiles play it, full
        # screen the main one.
        gate = save_camera(
            Camera(
                name="Gate", slug="gate", stream_url=rtsp.url(), detect_url=rtsp.url(), segment_seconds=2,
                ai_enabled=False,
            )
        )  # fmt: skip
        lobby = save_camera(
            Camera(
                name="Lobby", slug="lobby", stream_url=people.url(), segment_seconds=2, detect_fps=2.0,
                ai_classes=["person"],
            )
        )  # fmt: skip
        layout = DashboardLayout.objects.create(name="Main", columns=2, rows=1, is_default=True)
        DashboardSlot.objects.create(layout=layout, position=0, camera=gate)
        DashboardSlot.objects.create(layout=layout, position=1, camera=lobby)
        env = dict(
            os.environ,
            DATABASE_URL=child_database_url(),
            DATA_DIR=str(data_dir),
            WORKER_LEASE_SECONDS="5",
            DETECTOR_THREADS="1",  # one core for inference, one for the rest
        )
        env.pop("DATABASE_TEST_NAME", None)
        try:
            workers = subprocess.Popen(
                [sys.executable, "manage.py", "runworkers"],
                cwd=REPO,
                env=env,
                stdout=(logs / "runworkers.log").open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            site.processes.append(workers)
            analysis = subprocess.Popen(
                [sys.executable, "manage.py", "rqworker", "analysis"],
                cwd=REPO,
                env=env,
                stdout=(logs / "rqworker.log").open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            site.processes.append(analysis)
            daphne, port = _start_daphne(env, logs / "daphne.log")
            site.processes.append(daphne)
            site.url = f"http://127.0.0.1:{port}"
            yield site
        finally:
            for process in reversed(site.processes):
                _stop(process)
            rtsp.stop()
            people.stop()
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread; the tests' own ORM calls
    # are plain synchronous ones all the same (the site's processes are started already).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def logged_in_page(browser, site, username: str, viewport: dict | None = None):
    """A page of a new browser context in which `username` logged in through the login form."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800}, base_url=site.url)
    page = context.new_page()
    page.console_lines = []  # what the page logged, for failure messages
    page.on("console", lambda m: page.console_lines.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.console_lines.append(f"error: {e} {e.stack}"))
    page.goto("/login/?next=/live/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*/live/$"))
    return context, page


@pytest.fixture(scope="module")
def operator_page(browser, site):
    """A page of a browser in which the operator has logged in through the login form."""
    context, page = logged_in_page(browser, site, "bob")
    yield page
    context.close()


@pytest.fixture(scope="module")
def admin_page(browser, site):
    """The same for an admin (employee alerts reach admins only)."""
    context, page = logged_in_page(browser, site, "alice")
    yield page
    context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, name): save a full-page PNG under the artifacts folder."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="module")
def orm(django_db_blocker):
    """`with orm():` around the tests' database work. Closes the connection afterwards:
    under Playwright's loop Django keeps it per context, where teardown cannot reach it."""
    from contextlib import contextmanager

    from django.db import connections

    @contextmanager
    def use():
        with django_db_blocker.unblock():
            try:
                yield
            finally:
                connections.close_all()

    return use
