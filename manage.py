#!/usr/bin/env python
"""Django's command-line utility for AINVR."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ainvr.settings")
    if sys.argv[1:2] == ["runworkers"]:
        # No web server to load (daphne and Twisted: ~0.5 s): a restarted worker records sooner.
        os.environ.setdefault("AINVR_WORKER_PROCESS", "true")
    from ainvr.startup import one_line_errors

    with one_line_errors(sys.argv):
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018  (loads the settings: a bad one is one line, here)
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
