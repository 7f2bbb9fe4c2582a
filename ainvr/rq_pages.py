"""Django-RQ's admin pages answer 404, not 500, for a queue, job or worker that does not
exist (its views index lists and fetch jobs without checking: IndexError, NoSuchJobError,
AssertionError), and are the one place the Content-Security-Policy allows inline scripts
and styles: its templates carry them, and only admins reach these pages."""

from __future__ import annotations

from functools import wraps

from csp.decorators import csp_update
from django.http import Http404
from django.urls import URLPattern
from django_rq.connection_utils import get_unique_connection_configs
from django_rq.queues import get_queue_by_index
from django_rq.settings import get_queues_list
from rq.job import Job
from rq.worker import Worker


def check_rq_arguments(kwargs: dict) -> None:
    """Raise Http404 unless every queue, connection, job and worker the URL names exists."""
    queue_index = kwargs.get("queue_index", kwargs.get("scheduler_index"))
    if queue_index is not None and not 0 <= queue_index < len(get_queues_list()):
        raise Http404("No such queue.")
    connection_index = kwargs.get("connection_index")
    if connection_index is not None and not 0 <= connection_index < len(get_unique_connection_configs()):
        raise Http404("No such connection.")
    if queue_index is None or not ({"job_id", "key"} & kwargs.keys()):
        return
    connection = get_queue_by_index(queue_index).connection
    if "job_id" in kwargs and not Job.exists(kwargs["job_id"], connection=connection):
        raise Http404("No such job.")
    key = kwargs.get("key")
    if key is not None and not (key.startswith(Worker.redis_worker_namespace_prefix) and connection.exists(key)):
        raise Http404("No such worker.")


RQ_TEMPLATES_CSP = {"script-src": ["'unsafe-inline'"], "style-src": ["'unsafe-inline'"]}


def guard(view, admin_site):
    @csp_update(RQ_TEMPLATES_CSP)
    @wraps(view)
    def guarded(request, *args, **kwargs):
        # Only for those who may see the pages: the others get the admin's 403 or login.
        if admin_site.has_permission(request):
            check_rq_arguments(kwargs)
        return view(request, *args, **kwargs)

    return guarded


def guard_urls(urls: list, admin_site) -> list:
    """The same URL patterns, each view checking its arguments first."""
    for url in urls:
        if isinstance(url, URLPattern):
            url.callback = guard(url.callback, admin_site)
    return urls
