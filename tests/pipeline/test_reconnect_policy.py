"""The capture reconnect policy (pipeline.reconnect) with a fake clock and a fake probe:
recording comes back within about a second of the camera, whatever the outage's length,
and a camera that stays away is opened at most a few times a minute."""

from __future__ import annotations

from pipeline.reconnect import Backoff, ReconnectPolicy, probe_address, tcp_probe


class Camera:
    """A fake camera's port: up or down, and how often it was knocked on."""

    def __init__(self, up=False):
        self.up = up
        self.knocks = 0

    def probe(self, address):
        self.knocks += 1
        return self.up


def policy_for(camera, **options):
    return ReconnectPolicy(("cam", 554), backoff=Backoff(jitter=0.0), probe=camera.probe, **options)


def run(policy, camera, *, start, until, opens_succeed, step=0.05):
    """Ask the policy every `step` s from `start` to `until`; an open fails unless
    opens_succeed(t) (which may bring the camera's port up). Returns the times of the full
    opens; stops at the first that works."""
    opens, t = [], start
    while t < until:
        opens_succeed(t)  # the camera's port follows the scenario's clock
        if policy.ready(t):
            opens.append(t)
            if opens_succeed(t):
                policy.connected()
                return opens
            policy.failed(t)
        t = round(t + step, 6)
    return opens


def test_recording_resumes_within_a_second_and_a_half_of_a_camera_back_after_a_long_outage():
    for outage in (5.0, 60.0, 600.0):
        camera = Camera(up=False)
        policy = policy_for(camera)
        policy.failed(0.0)  # the stream dropped at t=0

        def camera_back(t, camera=camera, outage=outage):
            camera.up = t >= outage
            return camera.up

        opens = run(policy, camera, start=0.0, until=outage + 60, opens_succeed=camera_back)

        assert opens[-1] >= outage and opens[-1] - outage <= 1.5, (outage, opens[-1])


def test_a_camera_that_stays_away_is_opened_about_twice_a_minute_and_knocked_on_once_a_second():
    camera = Camera(up=False)
    policy = policy_for(camera)
    policy.failed(0.0)

    opens = run(policy, camera, start=0.0, until=600.0, opens_succeed=lambda t: False)

    per_minute = len(opens) / 10
    assert per_minute <= 2.5
    assert 500 <= camera.knocks <= 620  # a TCP connect a second, nothing more


def test_a_camera_that_answers_but_will_not_stream_is_backed_off_exponentially():
    camera = Camera(up=True)  # the port answers, but every open fails (a wrong path, say)
    policy = policy_for(camera)
    policy.failed(0.0)

    opens = run(policy, camera, start=0.0, until=300.0, opens_succeed=lambda t: False)

    gaps = [round(b - a, 1) for a, b in zip(opens, opens[1:], strict=False)]
    assert gaps[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert max(gaps) <= 30.05 and len(opens) <= 16  # capped: a few opens a minute at most


def test_a_short_drop_is_opened_again_after_the_first_backoff_step():
    camera = Camera(up=True)
    policy = policy_for(camera)
    policy.failed(10.0)

    assert not policy.ready(10.2)
    assert policy.ready(10.5)


def test_the_probe_knocks_on_the_port_of_the_stream_url(tmp_path):
    import socket

    assert probe_address("rtsp://user:pw@10.0.0.5/stream1") == ("10.0.0.5", 554)
    assert probe_address("rtsps://cam.local:8322/x") == ("cam.local", 8322)
    assert probe_address("http://[fe80::1]/video") == ("fe80::1", 80)
    assert probe_address(str(tmp_path / "clip.mp4")) is None
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = server.getsockname()
        assert tcp_probe(address, timeout=1.0)
    assert not tcp_probe(address, timeout=1.0)  # closed now: refused at once
