"""Fixtures for the WebSocket tests: channel layers and cheap passwords."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def redis_layer(settings):
    """The Redis channel layer production uses (ainvr.settings builds it from REDIS_URL), under
    a prefix of this test's own, so test runs sharing the Redis server cannot see each other's
    groups."""
    from ainvr import settings as production

    layer = production.CHANNEL_LAYERS["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer", "the tests need REDIS_URL"
    settings.CHANNEL_LAYERS = {
        "default": {**layer, "CONFIG": {**layer["CONFIG"], "prefix": f"ainvr-test-{uuid.uuid4().hex}"}}
    }
