"""bench/soak's arithmetic: the fault schedule, the memory slope and what counts as footage
lost beyond a fault. (The soak itself runs for an hour: bench/README.md.)"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from bench.soak.faults import default_schedule, parse_faults
from bench.soak.report import footage, resumed_after
from bench.soak.sampling import Sample, memory_slope

T0 = datetime(2026, 12, 3, 8, 0, 0)


def test_the_schedule_reads_times_and_lengths_in_seconds_minutes_and_hours():
    faults = parse_faults("web-restart@30m,camera-down@10m:60s,detector-kill@0.75h", total_s=3600)
    assert [(f.kind, f.at_s, f.length_s) for f in faults] == [
        ("camera-down", 600, 60),
        ("web-restart", 1800, 0),
        ("detector-kill", 2700, 0),
    ]


@pytest.mark.parametrize(
    "text", ["camera-gone@10m", "detector-kill", "web-restart@10m:30s", "camera-down@59m:2m", "camera-down@x"]
)
def test_the_schedule_refuses_what_it_cannot_run(text):
    with pytest.raises(ValueError):
        parse_faults(text, total_s=3600)


def test_the_default_schedule_fits_a_short_soak():
    faults = parse_faults(default_schedule(15 * 60), total_s=15 * 60)
    assert [f.kind for f in faults] == ["camera-down", "detector-kill", "web-restart"]
    assert faults[-1].at_s < 15 * 60


def samples(mb_per_h: float, *, minutes: int = 30, noise_mb: float = 0.3, seed: int = 1) -> list[Sample]:
    rng = random.Random(seed)
    return [
        Sample(t, frozenset({1}), 100 + mb_per_h * t / 3600 + rng.gauss(0, noise_mb), 0, 0)
        for t in range(0, minutes * 60, 5)
    ]


def test_a_climb_of_ten_mb_an_hour_is_told_from_noise():
    slope = memory_slope(samples(10.6), warmup_s=300, metric="rss")
    assert slope.mb_per_h == pytest.approx(10.6, abs=1.0)
    assert not slope.flat(max_mb_per_h=2.0)


def test_flat_memory_with_noise_counts_as_flat():
    slope = memory_slope(samples(0.0, noise_mb=1.0), warmup_s=300, metric="rss")
    assert slope.flat(max_mb_per_h=2.0)


def test_the_slope_is_fitted_over_the_longest_stretch_without_a_restart():
    before = samples(0.0, minutes=10)
    after = [Sample(s.t + 600, frozenset({2}), s.rss - 50, 0, 0) for s in samples(0.0, minutes=20)]
    slope = memory_slope(before + after, warmup_s=60, metric="rss")
    assert slope.processes == 1 and slope.hours * 60 == pytest.approx(19, abs=0.2)
    assert slope.flat(max_mb_per_h=2.0)  # the drop at the restart is not a slope


def segments(*spans: tuple[float, float]) -> list[tuple[datetime, datetime]]:
    return [(T0 + timedelta(seconds=a), T0 + timedelta(seconds=b)) for a, b in spans]


def test_footage_lost_counts_only_what_lies_beyond_the_outage():
    rows = segments((0, 10), (10, 20), (20, 30), (94, 100), (100, 110))  # camera down from 30 to 90
    down = [(T0.timestamp() + 30, T0.timestamp() + 90)]
    result = footage(
        "cam-01", rows, launched=T0.timestamp(), stopped=T0.timestamp() + 110, down=down, segment_s=10, gop_s=2.1
    )
    assert result.lost_s == pytest.approx(4.0)
    assert result.expected == 5 and result.segments == 5
    assert resumed_after(rows, T0.timestamp() + 90) == pytest.approx(4.0)


def test_a_gap_without_a_fault_is_all_lost_and_joins_at_keyframes_are_not():
    rows = segments((0, 10), (11.5, 20), (35, 45))
    result = footage(
        "cam-02", rows, launched=T0.timestamp(), stopped=T0.timestamp() + 45, down=[], segment_s=10, gop_s=2.1
    )
    assert result.lost_s == pytest.approx(15.0)
    assert len(result.gaps) == 1
