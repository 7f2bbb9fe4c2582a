"""LIVE_SOCKETS_PER_USER / LIVE_SOCKETS_PER_PROCESS: defaults 32 and 512; a bad value stops
the program with one line naming it."""

from __future__ import annotations


def test_the_defaults_are_32_per_user_and_512_per_process(settings_env, settings_values):
    names = ("LIVE_SOCKETS_PER_USER", "LIVE_SOCKETS_PER_PROCESS")
    assert settings_values(settings_env(), *names) == {"LIVE_SOCKETS_PER_USER": 32, "LIVE_SOCKETS_PER_PROCESS": 512}


def test_a_bad_value_is_refused_naming_the_variable(settings_env, load_settings):
    for name in ("LIVE_SOCKETS_PER_USER", "LIVE_SOCKETS_PER_PROCESS"):
        for bad, why in (("many", "is not a whole number"), ("0", "is below the minimum 1")):
            result = load_settings(settings_env(**{name: bad}), "DEBUG")
            assert result.returncode != 0
            last = result.stderr.strip().splitlines()[-1]
            assert last.startswith(f"django.core.exceptions.ImproperlyConfigured: {name}="), result.stderr
            assert why in last


def test_the_channel_layer_waits_longer_than_its_blocking_reads(settings_env, settings_values):
    layer = settings_values(settings_env(REDIS_URL="redis://127.0.0.1:6379/0"), "CHANNEL_LAYERS")["CHANNEL_LAYERS"]
    (host,) = layer["default"]["CONFIG"]["hosts"]
    assert host["socket_timeout"] > 5  # channels_redis blocks 5 s in BZPOPMIN
