"""WSGI entry point, for HTTP-only hosting; live video needs the ASGI one (daphne)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ainvr.settings")
application = get_wsgi_application()
