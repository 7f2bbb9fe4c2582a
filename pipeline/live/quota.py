"""How many live video sockets one user, and one web process, may hold.

Each `/ws/live/<camera>/` socket costs the web process a channel-layer receiver and the
camera's relay a fMP4 fragment per frame, so a user (or a script) opening hundreds of them
must be stopped. Per user the count is kept in Redis, so that it holds across web
processes: a sorted set of the user's sockets scored by when each last said it was alive.
A socket renews its score while it lives (every WATCH_TTL_S / 3 s, with its camera's
watching key); a process that died without saying goodbye stops counting after WATCH_TTL_S.
Per process it is a counter: the process's own memory and event loop are what run out.

A refused socket is accepted, told why ({"type": "refused", "code", "reason"}: daphne drops a
close frame's reason) and closed with a 4000-range code; the live grid shows the reason and
tries again a minute later (a handshake refused with 403 reaches the browser as a bare 1006,
which the grid would retry at once).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

log = logging.getLogger("ainvr.live")

CLOSE_TOO_MANY_FOR_USER = 4429  # 4000 + HTTP's Too Many Requests
CLOSE_PROCESS_FULL = 4503  # 4000 + HTTP's Service Unavailable


@dataclass(frozen=True)
class Refusal:
    code: int
    reason: str  # at most 123 bytes: a close frame's reason must fit in 125


def too_many_for_user(limit: int) -> Refusal:
    return Refusal(CLOSE_TOO_MANY_FOR_USER, f"Too many live videos open for you (at most {limit}).")


def process_full(limit: int) -> Refusal:
    return Refusal(CLOSE_PROCESS_FULL, f"The server shows as many live videos as it can ({limit}).")


class ProcessSlots:
    """The live sockets of this process. Used from the server's event loop only (no lock)."""

    def __init__(self) -> None:
        self.used = 0

    def take(self, limit: int) -> bool:
        if self.used >= limit:
            return False
        self.used += 1
        return True

    def give_back(self) -> None:
        self.used = max(0, self.used - 1)


# One per process, as its sockets are.
PROCESS_SLOTS = ProcessSlots()


def user_key(user_id: int) -> str:
    return f"ainvr:live:sockets:{user_id}"


async def claim_user_slot(redis: Redis, user_id: int, socket: str, limit: int, *, now: float, ttl: float) -> bool:
    """Count `socket` among the user's live sockets if fewer than `limit` are alive (renewed
    within `ttl` seconds); False (and not counted) otherwise. One MULTI: two processes
    claiming at once both see both claims, so the cap is never overshot."""
    key = user_key(user_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, "-inf", now - ttl)  # sockets of processes that died
        pipe.zadd(key, {socket: now})
        pipe.zcard(key)
        pipe.expire(key, int(ttl) + 1)
        _, _, count, _ = await pipe.execute()
    if count > limit:
        await redis.zrem(key, socket)
        return False
    return True


def renew_user_slot(pipe: Pipeline, user_id: int, socket: str, *, now: float, ttl: float) -> None:
    """Queue on `pipe` the renewal of a counted socket (XX: never re-adds a released one)."""
    key = user_key(user_id)
    pipe.zadd(key, {socket: now}, xx=True)
    pipe.expire(key, int(ttl) + 1)


async def release_user_slot(redis: Redis, user_id: int, socket: str) -> None:
    await redis.zrem(user_key(user_id), socket)
