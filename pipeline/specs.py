"""What a worker process is handed about its camera.

Plain, frozen values with no Django import at module level: a process started with
"spawn" unpickles these before Django is set up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


class CameraStates:
    """The values of cameras.models.CameraState, for processes that run without Django."""

    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"


@dataclass(frozen=True)
class CameraSpec:
    """What a capture process needs to know of its camera: plain values, credentials
    included (decrypted here, in memory; this never leaves the worker host, and its repr
    leaves the URLs out). `credentials_error` says why the camera cannot be opened when its
    stored credentials cannot be decrypted."""

    id: int
    slug: str
    name: str
    main_url: str = field(repr=False)
    detect_url: str = field(repr=False)
    record: bool
    segment_seconds: int
    ai_enabled: bool = False
    detect_fps: float = 5.0
    motion_gating: bool = True
    rotation: int = 0  # degrees clockwise that make the picture upright, for AI
    frame_side: int = 640  # AI frames are scaled down to this longer side (DETECTOR_FRAME_SIDE)
    attendance_enabled: bool = False
    credentials_error: str = ""
