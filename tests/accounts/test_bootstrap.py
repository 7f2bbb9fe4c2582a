"""`manage.py bootstrap` creates the first admin, with no known or weak password."""

from __future__ import annotations

import io
import re
import sqlite3

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command

from accounts.models import Role, User

KNOWN_DEFAULTS = {"admin", "password", "changeme", "123456", "12345678", "admin123", "ainvr", "root", "letmein", ""}
STRONG = "Blue-Otter-Rides-93-Trains"


def bootstrap(*args) -> str:
    out = io.StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str:
    match = re.search(r"password: (\S+)", output)
    assert match, f"no password in: {output!r}"
    return match.group(1)


def users_in(database) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as db:
        return db.execute("select username, role from accounts_user").fetchall()


def test_it_creates_one_admin_with_a_password_printed_once(db, client):
    output = bootstrap()
    password = printed_password(output)

    admin = User.objects.get()
    assert (admin.username, admin.role, admin.is_active) == ("admin", Role.ADMIN, True)
    assert output.count(password) == 1
    response = client.post("/login/", {"username": "admin", "password": password})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/admin/").status_code == 200


def test_the_generated_password_is_strong(db):
    password = printed_password(bootstrap())

    assert password.lower() not in KNOWN_DEFAULTS
    assert len(password) >= 12
    validate_password(password, User.objects.get())  # raises if any validator refuses it


def test_two_fresh_installs_get_different_passwords(db):
    first = printed_password(bootstrap())
    User.objects.all().delete()
    second = printed_password(bootstrap())
    assert first != second


def test_a_second_run_changes_nothing_and_prints_no_password(db, monkeypatch):
    first = printed_password(bootstrap())
    before = User.objects.get()

    monkeypatch.setenv("AINVR_ADMIN_PASSWORD", STRONG)
    output = bootstrap()

    after = User.objects.get()
    assert "password" not in output.lower()
    assert STRONG not in output
    assert after.password == before.password
    assert after.check_password(first)


def test_it_uses_ainvr_admin_password(db, monkeypatch):
    monkeypatch.setenv("AINVR_ADMIN_PASSWORD", STRONG)
    output = bootstrap()

    assert User.objects.get(username="admin").check_password(STRONG)
    assert STRONG not in output


def test_it_reads_ainvr_admin_password_file(db, monkeypatch, tmp_path):
    secret = tmp_path / "admin_password"
    secret.write_text(STRONG + "\n")
    monkeypatch.delenv("AINVR_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("AINVR_ADMIN_PASSWORD_FILE", str(secret))
    output = bootstrap()

    assert User.objects.get(username="admin").check_password(STRONG)
    assert STRONG not in output


@pytest.mark.parametrize("weak", ["admin", "password123", "12345678901", "changeme"])
def test_it_refuses_a_weak_ainvr_admin_password(db, monkeypatch, weak):
    monkeypatch.setenv("AINVR_ADMIN_PASSWORD", weak)
    with pytest.raises(CommandError, match="too weak"):
        bootstrap()
    assert not User.objects.exists()


@pytest.mark.parametrize("weak", ["admin", "password123"])
def test_a_weak_password_stops_the_command_with_one_line(fresh_install, tmp_path, weak):
    result = fresh_install("bootstrap", AINVR_ADMIN_PASSWORD=weak)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "too weak" in result.stderr
    assert users_in(tmp_path / "ainvr.sqlite3") == []


def test_a_missing_password_file_stops_the_command_with_one_line(fresh_install, tmp_path):
    result = fresh_install("bootstrap", AINVR_ADMIN_PASSWORD_FILE=str(tmp_path / "no-such-file"))

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "AINVR_ADMIN_PASSWORD_FILE" in result.stderr
    assert users_in(tmp_path / "ainvr.sqlite3") == []


def test_a_fresh_install_prints_the_password_on_stdout_only(fresh_install, tmp_path):
    result = fresh_install("bootstrap")

    assert result.returncode == 0, result.stderr
    password = printed_password(result.stdout)
    assert password not in result.stderr
    assert users_in(tmp_path / "ainvr.sqlite3") == [("admin", "admin")]


def test_it_refuses_a_username_taken_by_a_non_admin(db, operator_user):
    with pytest.raises(CommandError, match="exists but is not an active admin"):
        bootstrap("--username", operator_user.username)
    assert User.objects.get(username=operator_user.username).role == Role.OPERATOR
