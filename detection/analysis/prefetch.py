"""Decoding the next samples while the detector works on the current ones.

Offline analysis is two loads in turn: PyAV decodes and converts a sample, then the detector
runs on it. Both release the GIL (PyAV while it decodes and scales, onnxruntime while it runs),
so a thread that decodes ahead into a small bounded queue lets them overlap on two cores. The
queue is bounded so decoding never runs more than a few samples ahead of the detector: a
720p sample is 2.7 MB, and a cancelled job must not have decoded minutes of footage for nothing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator

from detection.analysis.footage import Sample

_END = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class PrefetchedSamples:
    """Iterates the samples of `source` (a generator, e.g. FootageSampler.samples()), decoded
    up to `ahead` samples in advance by a thread started on the first `next()`. An error
    raised by `source` is raised again by `next()`, after the samples before it. `close()`
    stops the thread and closes `source` (its file) in the thread that ran it; the
    iterator then ends."""

    def __init__(self, source: Generator[Sample, None, None], *, ahead: int = 8):
        self._source = source
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, ahead))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._done = False

    def __iter__(self) -> PrefetchedSamples:
        return self

    def __next__(self) -> Sample:
        if self._done:
            raise StopIteration
        if self._thread is None:
            self._thread = threading.Thread(target=self._decode, name="analysis-decoder", daemon=True)
            self._thread.start()
        item = self._queue.get()
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, _Failure):
            self._done = True
            raise item.error
        return item

    def _decode(self) -> None:
        try:
            for sample in self._source:
                self._queue.put(sample)  # blocks while the queue is full: the bound
                if self._stop.is_set():
                    return
            self._queue.put(_END)
        except BaseException as e:  # handed to the consumer, which decides what it means
            self._queue.put(_Failure(e))
        finally:
            # A generator is closed by the thread that runs it: this one.
            self._source.close()

    def close(self) -> None:
        """Stop decoding and release the file being read; idempotent."""
        self._done = True
        self._stop.set()
        if self._thread is None:
            self._source.close()
            return
        while self._thread.is_alive():
            # Empty the queue so a put() blocked on it returns and sees the stop.
            self._drain()
            self._thread.join(timeout=0.05)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
