"""SECRETS_KEY (camera credentials at rest): Fernet keys, comma-separated; a bad one stops
the process naming the variable and never quoting the value."""

from __future__ import annotations

from cryptography.fernet import Fernet

from tests.ainvr.test_settings_refuse_bad_values import refusal

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def test_several_keys_are_read_in_order(settings_env, settings_values):
    values = settings_values(settings_env(SECRETS_KEY=f" {KEY_A} ,{KEY_B}"), "SECRETS_KEYS")
    assert values["SECRETS_KEYS"] == [KEY_A, KEY_B]


def test_unset_means_the_key_file_in_the_state_dir(settings_env, settings_values, tmp_path):
    values = settings_values(settings_env(SECRETS_KEY=None), "SECRETS_KEYS", "SECRETS_KEY_PATH", "STATE_DIR")
    assert values["SECRETS_KEYS"] == []
    assert values["SECRETS_KEY_PATH"] == values["STATE_DIR"] + "/secrets.key"


def test_the_key_can_come_from_a_file(settings_env, settings_values, tmp_path):
    secret = tmp_path / "secrets_key"
    secret.write_text(f"{KEY_A}\n{KEY_B}\n")
    values = settings_values(settings_env(SECRETS_KEY_FILE=str(secret)), "SECRETS_KEYS")
    assert values["SECRETS_KEYS"] == [KEY_A, KEY_B]


def test_a_bad_key_stops_the_process_naming_the_variable_not_the_value(settings_env, load_settings):
    message = refusal(load_settings(settings_env(SECRETS_KEY=f"{KEY_A},not-a-fernet-key-Q7")))
    assert message.startswith("SECRETS_KEY: key 2 is not a Fernet key")
    assert "not-a-fernet-key-Q7" not in message
