"""Which of a camera's zones a tracked object entered.

An object is in a zone when the bottom-centre of its box (where it stands) is inside for
the zone's ``min_frames`` frames in a row: one frame's box jitter at the edge is not an
entry. With ``loiter_seconds`` it must also have stayed that long. Zones may be for some
classes only. Entries are kept in order and never forgotten: an event records every zone
its object went into.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cameras.zones import Area


@dataclass
class ZonePresence:
    """One tracked object's zones: `entered` (names, in the order entered)."""

    entered: list[str] = field(default_factory=list)
    # Per zone the object stands in now: frames in a row, and since when.
    _inside: dict[str, tuple[int, datetime]] = field(default_factory=dict, repr=False)

    def see(self, zones: tuple[Area, ...], inside, now: datetime) -> bool:
        """Count one sighting, `inside` telling for each zone whether the object stands in it
        (cameras.zones.AreaMap.inside); True when it made the object enter a zone."""
        entered = False
        for zone, is_inside in zip(zones, inside, strict=True):
            if not is_inside:
                self._inside.pop(zone.name, None)
                continue
            frames, since = self._inside.get(zone.name, (0, now))
            frames += 1
            self._inside[zone.name] = (frames, since)
            if zone.name in self.entered or frames < zone.min_frames:
                continue
            if zone.loiter_seconds and (now - since).total_seconds() < zone.loiter_seconds:
                continue
            self.entered.append(zone.name)
            entered = True
        return entered
