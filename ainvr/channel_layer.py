"""The Redis channel layer, with a socket's cancellation that always ends its receive.

When a WebSocket closes, Channels cancels the consumer's pending `receive()`, which is waiting
in a blocking BZPOPMIN. redis-py sometimes swallows that cancellation while it reads the reply
(the task is left "cancelling", reading on; redis/redis-py#2028), and channels_redis then loops
on BZPOPMIN for ever: daphne kills the application after its close timeout with a warning, and
a test's event loop never closes. The task still says it was asked to stop
(`Task.cancelling()`), so after each BZPOPMIN we look, and stop.
"""

from __future__ import annotations

import asyncio

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer


class RedisChannelLayer(_RedisChannelLayer):
    async def _brpop_with_clean(self, index, channel, timeout):
        member = await super()._brpop_with_clean(index, channel, timeout)
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # A message popped here stays in the channel's backup queue, which the next
            # receive on that channel puts back first (channels_redis's own recovery).
            raise asyncio.CancelledError
        return member
