"""ainvr/settings.py stops the process on a value it cannot understand, naming the variable.

Each case loads the settings in a fresh interpreter: a settings module runs once per process.
"""

from __future__ import annotations

import os
import stat

import pytest

STRONG_KEY = "k2Jd9Qx7Lm4Vb8Nz1Rt6Yw3Hs5Fg0Pa-Ue_Ic7Oq2Ej9Kl4Mx8Bv1Cz6Dn3"
SHORT_KEY = "Tq8-short-key-Zr4"


def refusal(result) -> str:
    """The one sentence the process died with; fails the test if it did not die of a bad setting."""
    assert result.returncode != 0, f"loaded although it should not:\n{result.stdout}"
    last_line = result.stderr.strip().splitlines()[-1]
    prefix = "django.core.exceptions.ImproperlyConfigured: "
    assert last_line.startswith(prefix), result.stderr
    return last_line.removeprefix(prefix)


POSTGRES = {"DATABASE_URL": "postgres://ainvr@127.0.0.1:5432/ainvr"}  # the pool is PostgreSQL's only
BAD_VALUES = [
    pytest.param("DEBUG", {"DEBUG": "maybe"}, id="DEBUG=maybe"),
    pytest.param("SECRET_KEY", {"DEBUG": "false"}, id="DEBUG=false-without-SECRET_KEY"),
    pytest.param("SECRET_KEY", {"DEBUG": "false", "SECRET_KEY": SHORT_KEY}, id="short-SECRET_KEY"),
    pytest.param(
        "SECRET_KEY", {"DEBUG": "false", "SECRET_KEY": "django-insecure-" + STRONG_KEY}, id="django-insecure-SECRET_KEY"
    ),
    pytest.param("SECRET_KEY", {"DEBUG": "false", "SECRET_KEY": "ab" * 30}, id="repetitive-SECRET_KEY"),
    pytest.param("DATABASE_URL", {"DATABASE_URL": "mysql://x"}, id="DATABASE_URL=mysql"),
    pytest.param("DATABASE_URL", {"DATABASE_URL": "nonsense"}, id="DATABASE_URL=nonsense"),
    pytest.param("DATABASE_URL", {"DATABASE_URL": "postgres://u:pw@db:port/ainvr"}, id="DATABASE_URL-bad-port"),
    pytest.param("REDIS_URL", {"REDIS_URL": "http://x"}, id="REDIS_URL=http"),
    pytest.param("TIME_ZONE", {"TIME_ZONE": "Mars/Olympus"}, id="TIME_ZONE=Mars/Olympus"),
    pytest.param("TIME_ZONE", {"TIME_ZONE": "../../etc/passwd"}, id="TIME_ZONE-path"),
    pytest.param("CSRF_TRUSTED_ORIGINS", {"CSRF_TRUSTED_ORIGINS": "example.com"}, id="CSRF_TRUSTED_ORIGINS-no-scheme"),
    pytest.param("EMAIL_URL", {"EMAIL_URL": "bogus://x"}, id="EMAIL_URL=bogus"),
    pytest.param("LOG_LEVEL", {"LOG_LEVEL": "LOUD"}, id="LOG_LEVEL=LOUD"),
    pytest.param("SESSION_COOKIE_AGE", {"SESSION_COOKIE_AGE": "abc"}, id="SESSION_COOKIE_AGE=abc"),
    pytest.param("SESSION_COOKIE_AGE", {"SESSION_COOKIE_AGE": "10"}, id="SESSION_COOKIE_AGE-too-short"),
    pytest.param("HTTPS", {"HTTPS": "sometimes"}, id="HTTPS=sometimes"),
    pytest.param("DETECTOR_PRECISION", {"DETECTOR_PRECISION": "fp16"}, id="DETECTOR_PRECISION=fp16"),
    pytest.param("DETECTOR_INPUT_SIZE", {"DETECTOR_INPUT_SIZE": "500"}, id="DETECTOR_INPUT_SIZE=500"),
    pytest.param("DETECTOR_INPUT_SIZE", {"DETECTOR_INPUT_SIZE": "64"}, id="DETECTOR_INPUT_SIZE=64"),
    pytest.param("ANALYSIS_INPUT_SIZE", {"ANALYSIS_INPUT_SIZE": "2048"}, id="ANALYSIS_INPUT_SIZE=2048"),
    pytest.param("SECURE_HSTS_SECONDS", {"SECURE_HSTS_SECONDS": "-1"}, id="SECURE_HSTS_SECONDS=-1"),
    pytest.param("DATABASE_POOL", {**POSTGRES, "DATABASE_POOL": "sometimes"}, id="DATABASE_POOL=sometimes"),
    pytest.param("DATABASE_POOL_SIZE", {**POSTGRES, "DATABASE_POOL": "true", "DATABASE_POOL_SIZE": "1"}, id="pool1"),
]


@pytest.mark.parametrize(("variable", "overrides"), BAD_VALUES)
def test_it_refuses_a_bad_value_naming_the_variable(settings_env, load_settings, variable, overrides):
    message = refusal(load_settings(settings_env(**overrides)))
    assert variable in message


def test_it_refuses_a_data_dir_that_is_a_file(tmp_path, settings_env, load_settings):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    message = refusal(load_settings(settings_env(DATA_DIR=str(not_a_folder))))
    assert "DATA_DIR" in message


def test_it_refuses_a_recordings_dir_inside_a_file(tmp_path, settings_env, load_settings):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    message = refusal(load_settings(settings_env(RECORDINGS_DIR=str(a_file / "recordings"))))
    assert "RECORDINGS_DIR" in message


def test_it_refuses_a_secret_key_file_that_is_missing(tmp_path, settings_env, load_settings):
    env = settings_env(DEBUG="false", SECRET_KEY_FILE=str(tmp_path / "missing-secret"))
    message = refusal(load_settings(env))
    assert "SECRET_KEY_FILE" in message


def test_it_does_not_echo_a_refused_secret(settings_env, load_settings):
    result = load_settings(settings_env(DEBUG="false", SECRET_KEY=SHORT_KEY))
    refusal(result)
    assert SHORT_KEY not in result.stderr


def test_it_does_not_echo_a_database_password(settings_env, load_settings):
    result = load_settings(settings_env(DATABASE_URL="postgres://ainvr:Hunter2-db-pw@db:port/ainvr"))
    refusal(result)
    assert "Hunter2-db-pw" not in result.stderr


def test_it_loads_a_production_configuration(settings_env, settings_values):
    env = settings_env(
        DEBUG="false",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS=" nvr.example.com , 10.0.0.2 ,",
        CSRF_TRUSTED_ORIGINS="https://nvr.example.com",
        TIME_ZONE="Europe/Paris",
        LOG_LEVEL="warning",
        SESSION_COOKIE_AGE="3600",
    )
    values = settings_values(
        env, "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "TIME_ZONE", "LOG_LEVEL", "SESSION_COOKIE_AGE"
    )
    assert values == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["nvr.example.com", "10.0.0.2"],
        "CSRF_TRUSTED_ORIGINS": ["https://nvr.example.com"],
        "TIME_ZONE": "Europe/Paris",
        "LOG_LEVEL": "WARNING",
        "SESSION_COOKIE_AGE": 3600,
    }


def test_debug_without_a_secret_key_generates_one_and_keeps_it(tmp_path, settings_env, settings_values):
    env = settings_env(DEBUG="true", SECRET_KEY=None)
    first = settings_values(env, "SECRET_KEY")["SECRET_KEY"]
    second = settings_values(env, "SECRET_KEY")["SECRET_KEY"]

    key_file = tmp_path / "data" / "state" / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 50
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_two_fresh_installs_get_different_generated_keys(tmp_path, settings_env, settings_values):
    one = settings_values(settings_env(DATA_DIR=str(tmp_path / "one")), "SECRET_KEY")["SECRET_KEY"]
    two = settings_values(settings_env(DATA_DIR=str(tmp_path / "two")), "SECRET_KEY")["SECRET_KEY"]
    assert one != two


def test_the_secret_key_is_read_from_secret_key_file(tmp_path, settings_env, settings_values):
    secret = tmp_path / "secret"
    secret.write_text(STRONG_KEY + "\n")
    env = settings_env(DEBUG="false", SECRET_KEY_FILE=str(secret))
    assert settings_values(env, "SECRET_KEY") == {"SECRET_KEY": STRONG_KEY}


def test_an_env_file_is_read_but_real_variables_win(tmp_path, settings_env, settings_values):
    env_file = tmp_path / "ainvr.env"
    env_file.write_text(f"TIME_ZONE=Asia/Tokyo\nLOG_LEVEL=DEBUG\nDEBUG=false\nSECRET_KEY={STRONG_KEY}\n")
    env = settings_env(ENV_FILE=str(env_file), DEBUG=None, LOG_LEVEL="WARNING")
    values = settings_values(env, "TIME_ZONE", "LOG_LEVEL", "DEBUG", "SECRET_KEY")
    assert values == {"TIME_ZONE": "Asia/Tokyo", "LOG_LEVEL": "WARNING", "DEBUG": False, "SECRET_KEY": STRONG_KEY}


def test_a_bad_value_in_the_env_file_is_refused_too(tmp_path, settings_env, load_settings):
    env_file = tmp_path / "ainvr.env"
    env_file.write_text("TIME_ZONE=Mars/Olympus\n")
    message = refusal(load_settings(settings_env(ENV_FILE=str(env_file))))
    assert "TIME_ZONE" in message
