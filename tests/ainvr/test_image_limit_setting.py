"""MAX_IMAGE_PIXELS: the largest image taken, also Pillow's guard in every process that
loads the settings; a bad value stops the program with one line naming it."""

from __future__ import annotations

import subprocess
import sys

from tests.installs import REPO


def test_a_bad_value_is_refused_naming_the_variable(settings_env, load_settings):
    for bad, why in (("lots", "is not a whole number"), ("10", "is below the minimum 1000000")):
        result = load_settings(settings_env(MAX_IMAGE_PIXELS=bad), "DEBUG")
        assert result.returncode != 0
        assert (
            result.stderr.strip()
            .splitlines()[-1]
            .startswith("django.core.exceptions.ImproperlyConfigured: MAX_IMAGE_PIXELS=")
        ), result.stderr
        assert why in result.stderr


def test_the_default_is_40_megapixels(settings_env, settings_values):
    assert settings_values(settings_env(), "MAX_IMAGE_PIXELS") == {"MAX_IMAGE_PIXELS": 40_000_000}


def test_the_setting_is_pillows_guard_in_a_fresh_process(settings_env):
    code = (
        "import io; from django.conf import settings; settings.INSTALLED_APPS; from PIL import Image; "
        "from tests.attendance.bombs import png_bomb; print(settings.MAX_IMAGE_PIXELS, Image.MAX_IMAGE_PIXELS); "
        "Image.open(io.BytesIO(png_bomb(3000, 2000)))"  # 6 Mpx: above the limit, below twice it
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=settings_env(MAX_IMAGE_PIXELS="5000000"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["5000000", "5000000"], result.stderr
    assert result.returncode != 0 and "DecompressionBomb" in result.stderr.strip().splitlines()[-1]
