"""The fault schedule: `camera-down@10m:60s,detector-kill@20m,web-restart@30m`."""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("camera-down", "detector-kill", "face-kill", "web-restart")
_ITEM = re.compile(r"^(?P<kind>[a-z-]+)@(?P<at>\d+(?:\.\d+)?[smh]?)(?::(?P<length>\d+(?:\.\d+)?[smh]?))?$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "": 1}


@dataclass(frozen=True)
class Fault:
    kind: str
    at_s: float  # from the start of the soak (runworkers launched)
    length_s: float = 0.0  # camera-down only: how long the camera stays down

    @property
    def label(self) -> str:
        return f"{self.kind}@{_short(self.at_s)}" + (f":{_short(self.length_s)}" if self.length_s else "")


def seconds(text: str) -> float:
    """'90', '90s', '10m', '1.5h' -> seconds."""
    unit = text[-1] if text and text[-1] in "smh" else ""
    return float(text[: len(text) - len(unit)]) * _UNIT[unit]


def parse_faults(text: str, *, total_s: float) -> list[Fault]:
    """Parse a schedule; raises ValueError with a one-line reason."""
    faults = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        match = _ITEM.match(item)
        if not match or match["kind"] not in KINDS:
            raise ValueError(f"{item!r}: expected KIND@TIME[:LENGTH], KIND one of {', '.join(KINDS)}")
        fault = Fault(match["kind"], seconds(match["at"]), seconds(match["length"]) if match["length"] else 0.0)
        if fault.kind == "camera-down" and not fault.length_s:
            fault = Fault(fault.kind, fault.at_s, 60.0)
        if fault.kind != "camera-down" and fault.length_s:
            raise ValueError(f"{item!r}: only camera-down takes a length")
        if fault.at_s + fault.length_s >= total_s:
            raise ValueError(f"{item!r}: ends after the soak does ({_short(total_s)})")
        faults.append(fault)
    return sorted(faults, key=lambda f: f.at_s)


def default_schedule(total_s: float) -> str:
    """The example schedule of an hour, scaled to `total_s`: a camera down for 60 s at 1/6,
    the detector killed at 1/3, the web server restarted at 1/2 (the rest shows recovery)."""
    return f"camera-down@{total_s / 6:.0f}s:60s,detector-kill@{total_s / 3:.0f}s,web-restart@{total_s / 2:.0f}s"


def _short(s: float) -> str:
    if s >= 60 and s % 60 == 0:
        return f"{s / 60:g}m"
    return f"{s:g}s"
