"""Talking to Redis outside the channel layer and RQ: one client factory for every process.
Django-free: capture processes use it."""

from __future__ import annotations

import redis

TIMEOUT_S = 2.0


def redis_client(url: str) -> redis.Redis:
    """A client for `url` that gives up within TIMEOUT_S when connecting or reading: a worker
    loop or a health check must not hang on a Redis that went away."""
    return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
