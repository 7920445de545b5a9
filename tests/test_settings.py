"""Invalid settings stop the start with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from casetracker.settings import env_bool, env_int

ROOT = Path(__file__).resolve().parent.parent


def start(**env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY"}}
    environment.update({"DATABASE_URL": "sqlite:///:memory:", **env})
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_valid_settings_start():
    result = start(SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY is required when DEBUG is off"),
        ({"SECRET_KEY": "x" * 50, "DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"SECRET_KEY": "x" * 50, "DATABASE_URL": "mysql://localhost/db"}, "only sqlite:/// and postgres://"),
        ({"SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://localhost"}, "names no database"),
        ({"SECRET_KEY": "x" * 50, "CASE_ID_PREFIX": "kp-"}, "CASE_ID_PREFIX='kp-'"),
        ({"SECRET_KEY": "x" * 50, "DATABASE_CONN_MAX_AGE": "soon", "DATABASE_URL": "postgres://h/db"}, "not a whole"),
        ({"SECRET_KEY": "x" * 50, "ALLOW_SELF_PUBLISH": "1"}, "now called WORKFLOW_ALLOW_SELF_PUBLISH"),
        ({"SECRET_KEY": "x" * 50, "WORKFLOW_ALLOW_SELF_PUBLISH": "perhaps"}, "WORKFLOW_ALLOW_SELF_PUBLISH='perhaps'"),
        ({"SECRET_KEY": "x" * 50, "IMPORT_MAX_MB": "0"}, "IMPORT_MAX_MB='0' must be at least 1"),
    ],
)
def test_invalid_settings_stop_the_start_with_a_clear_message(env, message):
    result = start(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_debug_runs_without_a_secret_key():
    assert start(DEBUG="1").returncode == 0


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("yes", True), ("off", False), ("", False)])
def test_env_bool(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG") is expected


def test_env_int_refuses_below_minimum(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("SOME_NUMBER", "-3")
    with pytest.raises(ImproperlyConfigured):
        env_int("SOME_NUMBER", 5)


@pytest.mark.parametrize("command", [["check"], ["makemigrations", "--check", "--dry-run"], ["migrate"]])
def test_every_command_names_the_missing_setting_even_in_a_bare_environment(command):
    # With a near-empty environment Django would otherwise swallow the settings error and fail
    # later with "Models aren't loaded yet", which says nothing about what to set.
    result = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr
    assert "AppRegistryNotReady" not in result.stderr
