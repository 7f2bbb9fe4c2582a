"""WSGI entry point, for HTTP-only hosting; live video needs the ASGI one (daphne)."""

import os

from django.core.wsgi import get_wsgi_application

from ainvr.startup import one_line_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ainvr.settings")
with one_line_errors():
    application = get_wsgi_application()
