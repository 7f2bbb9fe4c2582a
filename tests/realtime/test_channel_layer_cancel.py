"""A cancelled receive() ends (ainvr.channel_layer): redis-py sometimes swallows the cancellation
of a consumer's receive while it connects or reads, and channels_redis then waited on BZPOPMIN
for ever (a daphne warning and a killed application on every such socket close; a test's event
loop that never closed, holding pytest's exit)."""

from __future__ import annotations

import asyncio
import time

import pytest
from django.conf import settings

from ainvr.channel_layer import RedisChannelLayer

BZPOPMIN_S = 5  # channels_redis's blocking wait: the longest a swallowed cancellation now lasts


def cancelled_receives(layer_class, delays) -> list[float | None]:
    """Seconds each receive took to end once cancelled `delay` s after it started; None: not
    within two blocking waits."""

    async def one(delay: float) -> float | None:
        layer = layer_class(hosts=[{"address": settings.REDIS_URL, "socket_timeout": 15}], prefix="ainvr-test-cancel")
        try:
            task = asyncio.ensure_future(layer.receive(await layer.new_channel()))
            await asyncio.sleep(delay)
            started = time.monotonic()
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=2 * BZPOPMIN_S + 1)
            return time.monotonic() - started if done else None
        finally:
            await layer.close_pools()

    async def all_of_them():
        return [await one(delay) for delay in delays]

    return asyncio.run(all_of_them())


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis")
def test_a_cancelled_receive_always_ends():
    delays = [0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.05] * 2
    took = cancelled_receives(RedisChannelLayer, delays)
    assert all(t is not None and t <= BZPOPMIN_S + 1 for t in took), list(zip(delays, took, strict=True))
