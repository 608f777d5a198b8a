"""The clock tests and demonstrations move (``services.runtime.clock``): every process
reading the same file moves together, at once, forward by what was written; never in
production."""

from __future__ import annotations

import datetime as dt

import pytest

from services import config
from services.runtime import clock


def test_without_the_variable_it_is_the_machines_clock(monkeypatch):
    monkeypatch.delenv(clock.VARIABLE, raising=False)
    assert clock.offset() == 0
    assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_a_move_is_seen_at_once_and_moves_add_up(monkeypatch, tmp_path):
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.VARIABLE, str(path))
    assert clock.offset() == 0  # no file yet: not moved
    clock.moved_by(path, 31 * 86400)
    assert clock.offset() == 31 * 86400  # the very next call, no waiting
    clock.moved_by(path, 86400)
    assert clock.offset() == 32 * 86400
    assert clock.now() - dt.datetime.now(dt.UTC) > dt.timedelta(days=31, hours=23)


def test_production_refuses_a_moved_clock(monkeypatch, tmp_path):
    monkeypatch.setenv(clock.VARIABLE, str(tmp_path / "clock"))
    monkeypatch.setenv("COOPBRIDGE_ENV", "production")
    with pytest.raises(config.ConfigError):
        clock.now()


def test_a_service_does_not_start_in_production_with_a_moved_clock(monkeypatch, tmp_path):
    monkeypatch.setenv(clock.VARIABLE, str(tmp_path / "clock"))
    clock.refuse_to_start_moved()  # development: starts
    monkeypatch.setenv("COOPBRIDGE_ENV", "production")
    with pytest.raises(config.ConfigError):
        clock.refuse_to_start_moved()
    monkeypatch.delenv(clock.VARIABLE)
    clock.refuse_to_start_moved()  # production on the machine's clock: starts
