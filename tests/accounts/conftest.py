"""Fixtures for running manage.py commands as a fresh install would, in a subprocess."""

from __future__ import annotations

import pytest


@pytest.fixture
def fresh_install(install):
    """fresh_install(*args, **env) runs `manage.py <args>` in a new, migrated install."""
    return install.manage
