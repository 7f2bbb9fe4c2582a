"""Live video sockets are capped per user (counted in Redis, across web processes) and per
web process, with a close code and reason the grid shows; all of a process's sockets share
its Redis connections (issue 15, finding 8: 150 sockets of one operator, Redis clients 4 -> 157)."""

from __future__ import annotations

import json
import time
from contextlib import AsyncExitStack
from urllib.parse import urlsplit

import psutil
import pytest
import redis
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings

from ainvr.asgi import application
from pipeline.live.channel import watch_key
from pipeline.live.quota import CLOSE_PROCESS_FULL, CLOSE_TOO_MANY_FOR_USER, PROCESS_SLOTS, user_key
from tests.pipeline.live.sockets import TIMEOUT, headers_for

pytestmark = pytest.mark.django_db(transaction=True)

SOCKETS = 30


@pytest.fixture
def live_keys(camera, users):
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = [watch_key("gate")] + [user_key(u.pk) for u in users.values() if u is not None]
    client.delete(*keys)
    yield client
    client.delete(*keys)


class Sockets:
    """Live sockets opened inside one event loop, closed when the scenario ends."""

    def __init__(self, stack: AsyncExitStack):
        self.stack = stack

    async def open(self, client):
        """(accepted and kept open, close code or None)."""
        communicator = WebsocketCommunicator(application, "/ws/live/gate/", headers=headers_for(client))
        connected, code = await communicator.connect(timeout=TIMEOUT)
        self.stack.push_async_callback(communicator.disconnect, 1000, TIMEOUT)  # refused ones too
        if not connected:
            return False, code
        # A refusal comes as a close right after the accept; an accepted socket stays quiet.
        if await communicator.receive_nothing(timeout=0.3):
            return True, None
        said = json.loads((await communicator.receive_output(timeout=TIMEOUT))["text"])
        message = await communicator.receive_output(timeout=TIMEOUT)
        assert message["type"] == "websocket.close", message
        # The reason comes twice: in the close frame, and first as a message (daphne drops the former).
        assert said == {"type": "refused", "code": message["code"], "reason": message["reason"]}
        return False, (message.get("code"), message.get("reason"))


def scenario(body):
    async def run():
        async with AsyncExitStack() as stack:
            return await body(Sockets(stack))

    return async_to_sync(run)()


def test_a_user_past_the_cap_is_refused_with_4429_and_a_reason(settings, redis_layer, live_keys, persona_client):
    settings.LIVE_SOCKETS_PER_USER = 3
    operator, admin = persona_client("operator"), persona_client("admin")

    async def body(sockets):
        results = [await sockets.open(operator) for _ in range(4)]
        results.append(await sockets.open(admin))  # the cap is per user
        return results

    results = scenario(body)

    assert [accepted for accepted, _ in results] == [True, True, True, False, True]
    code, reason = results[3][1]
    assert code == CLOSE_TOO_MANY_FOR_USER
    assert "at most 3" in reason
    assert PROCESS_SLOTS.used == 0  # every socket gave its place back


def test_a_closed_socket_frees_its_place(settings, redis_layer, live_keys, operator_client):
    settings.LIVE_SOCKETS_PER_USER = 1

    async def body(sockets):
        first = await sockets.open(operator_client)
        second = await sockets.open(operator_client)
        await sockets.stack.aclose()  # the first one leaves
        third = await sockets.open(operator_client)
        return first, second, third

    first, second, third = scenario(body)
    assert first[0] and not second[0] and third[0]


def test_the_cap_counts_a_users_sockets_in_other_processes_until_they_stop_renewing(
    settings, redis_layer, live_keys, operator_user, operator_client
):
    settings.LIVE_SOCKETS_PER_USER = 3
    now = time.time()
    # Two sockets another web process holds, alive; one a dead process left behind.
    live_keys.zadd(user_key(operator_user.pk), {"other-a": now, "other-b": now, "dead": now - 60})

    async def body(sockets):
        return [await sockets.open(operator_client) for _ in range(2)]

    results = scenario(body)

    assert [accepted for accepted, _ in results] == [True, False]
    assert results[1][1][0] == CLOSE_TOO_MANY_FOR_USER


def test_a_process_past_its_cap_refuses_with_4503(settings, redis_layer, live_keys, persona_client):
    settings.LIVE_SOCKETS_PER_PROCESS = 2
    operator, admin = persona_client("operator"), persona_client("admin")

    async def body(sockets):
        return [await sockets.open(operator), await sockets.open(admin), await sockets.open(admin)]

    results = scenario(body)

    assert [accepted for accepted, _ in results] == [True, True, False]
    assert results[2][1][0] == CLOSE_PROCESS_FULL


def redis_clients_of_this_process(client) -> int:
    """Clients in Redis's CLIENT LIST whose address is one of this process's sockets."""
    port = urlsplit(settings.REDIS_URL).port or 6379
    ours = {c.laddr.port for c in psutil.Process().net_connections(kind="tcp") if c.raddr and c.raddr.port == port}
    return sum(1 for c in client.client_list() if int(c["addr"].rsplit(":", 1)[1]) in ours)


def test_sockets_share_the_process_redis_connections(settings, redis_layer, live_keys, operator_client):
    settings.LIVE_SOCKETS_PER_USER = 100

    async def body(sockets):
        await sockets.open(operator_client)
        with_one = redis_clients_of_this_process(live_keys)
        results = [await sockets.open(operator_client) for _ in range(SOCKETS)]
        return with_one, redis_clients_of_this_process(live_keys), results

    with_one, with_many, results = scenario(body)

    assert all(accepted for accepted, _ in results)
    assert with_many - with_one <= 2  # was one more Redis client per socket
