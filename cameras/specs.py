"""What a worker process is handed about its camera.

Plain, frozen values with no Django import at module level: a process started with
"spawn" unpickles these before Django is set up.
"""

from __future__ import annotations

from dataclasses import dataclass


class CameraStates:
    """The values of cameras.models.CameraState, for processes that run without Django."""

    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"


@dataclass(frozen=True)
class CameraSpec:
    """What a capture process needs to know of its camera: plain values, credentials
    included (this never leaves the worker host)."""

    id: int
    slug: str
    name: str
    main_url: str
    detect_url: str
    record: bool
    segment_seconds: int
    ai_enabled: bool = False
    detect_fps: float = 5.0
    motion_gating: bool = True
    attendance_enabled: bool = False

    @classmethod
    def from_camera(cls, camera) -> CameraSpec:
        from cameras.selectors import stream_url_for_worker

        return cls(
            id=camera.pk,
            slug=camera.slug,
            name=camera.name,
            main_url=stream_url_for_worker(camera, "main"),
            detect_url=stream_url_for_worker(camera, "detect"),
            record=camera.recording_enabled,
            segment_seconds=camera.segment_seconds,
            ai_enabled=camera.ai_enabled,
            detect_fps=camera.detect_fps,
            motion_gating=camera.motion_gating,
            attendance_enabled=camera.attendance_enabled,
        )
