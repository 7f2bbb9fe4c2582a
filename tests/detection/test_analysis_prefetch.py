"""Decoding ahead in a thread: the same samples in the same order, errors passed on, a bounded
queue, and a close that stops the thread and releases the source."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from detection.analysis.footage import Sample
from detection.analysis.prefetch import PrefetchedSamples
from tests.detection.tiny_yolo import T0


class Source:
    """A generator of `count` samples (None: endless) that records how far it got and
    whether it was closed, and raises `error` after the last one when given."""

    def __init__(self, count: int | None, error: Exception | None = None):
        self.count, self.error = count, error
        self.produced = 0
        self.closed = False

    def samples(self):
        try:
            while self.count is None or self.produced < self.count:
                self.produced += 1
                yield Sample(at=T0 + timedelta(seconds=self.produced), image=np.zeros((2, 2, 3), np.uint8))
            if self.error is not None:
                raise self.error
        finally:
            self.closed = True


def seconds(samples) -> list[int]:
    return [round((s.at - T0).total_seconds()) for s in samples]


def test_it_gives_every_sample_in_order_then_ends():
    source = Source(10)
    prefetched = PrefetchedSamples(source.samples(), ahead=3)

    assert seconds(prefetched) == list(range(1, 11))
    assert list(prefetched) == []  # an ended iterator stays ended
    prefetched.close()
    assert source.closed


def test_an_error_in_decoding_comes_after_the_samples_before_it():
    source = Source(3, error=OSError("damaged file"))
    prefetched = PrefetchedSamples(source.samples(), ahead=8)

    got = [next(prefetched) for _ in range(3)]
    with pytest.raises(OSError, match="damaged file"):
        next(prefetched)
    assert seconds(got) == [1, 2, 3]
    prefetched.close()


def test_close_stops_a_decoder_waiting_on_a_full_queue_and_closes_its_source():
    source = Source(None)  # endless: only the bound keeps it from running on
    prefetched = PrefetchedSamples(source.samples(), ahead=2)

    assert seconds([next(prefetched)]) == [1]
    prefetched.close()

    assert source.closed and not prefetched._thread.is_alive()
    # One taken, two queued, one waiting to be put, one put while close() drained the queue.
    assert source.produced <= 1 + 2 + 2
    with pytest.raises(StopIteration):
        next(prefetched)


def test_closing_before_the_first_sample_starts_no_thread():
    source = Source(None)
    prefetched = PrefetchedSamples(source.samples(), ahead=2)

    prefetched.close()

    assert prefetched._thread is None and source.produced == 0
    with pytest.raises(StopIteration):
        next(prefetched)
