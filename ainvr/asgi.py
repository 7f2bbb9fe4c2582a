"""ASGI entry point: HTTP through Django, WebSockets through Channels with session auth.

Run with daphne: `daphne ainvr.asgi:application`.
"""

import os

from django.core.asgi import get_asgi_application

from ainvr.startup import one_line_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ainvr.settings")
# The web server pools its PostgreSQL connections: under ASGI, Django opens a new one for each
# request and each socket handshake otherwise (CONN_MAX_AGE must stay 0 there), each a
# connection set-up (bench/README.md, "Smaller figures from former code comments"), and a live
# grid's sockets open one after another. Only here: RQ workers fork, and a pool
# must not cross a fork; runworkers keeps one connection of its own. DATABASE_POOL=false turns
# it off. The variable is set only while the settings load, so no process started from this
# one inherits it.
_pool_asked = "DATABASE_POOL" in os.environ
os.environ.setdefault("DATABASE_POOL", "true")
try:
    # Django must be set up before anything imports models (the consumers do). A bad setting
    # ends the server with one line (ainvr.startup), not daphne's traceback.
    with one_line_errors():
        django_asgi_app = get_asgi_application()
finally:
    if not _pool_asked:
        del os.environ["DATABASE_POOL"]

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from ainvr.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin checked against ALLOWED_HOSTS: another site cannot open a socket with our cookies.
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
