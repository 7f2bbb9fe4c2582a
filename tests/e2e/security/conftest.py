"""The API tests' objects (one saved row of every model, an RQ worker) and the WebSocket
tests' channel layer, for the route walk; an RQ job of its own, which the walk may delete."""

import uuid

import pytest

from tests.pipeline.live.conftest import redis_layer  # noqa: F401


@pytest.fixture
def deletable_rq_job():
    """A job stored in Redis (never enqueued) that the requests may delete or requeue."""
    import django_rq
    from rq.job import Job

    queue = django_rq.get_queue("default")
    job = Job.create(
        "builtins.print", id=f"ainvr-test-{uuid.uuid4().hex}", connection=queue.connection, origin="default"
    )
    job.save()
    yield job.id
    queue.connection.delete(job.key)
    queue.remove(job.id)
