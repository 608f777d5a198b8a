"""``up``'s children: one that dies is started again, one that refused its settings (exit
status 2: a missing key in production) is not, since it would only refuse
again, for ever (docs/decisions.md)."""

from __future__ import annotations

import sys

from deploy.supervisor import REFUSED, Child


def dead(tmp_path, code: int) -> Child:
    child = Child("es", "membership", tmp_path, {},
                  command=[sys.executable, "-c", f"raise SystemExit({code})"])
    child.proc.wait(30)
    child.started -= 60  # its pause before a restart is over
    return child


def test_a_child_that_crashed_is_started_again(tmp_path):
    child = dead(tmp_path, 1)
    first = child.proc
    assert child.restart_if_dead()
    assert child.proc is not first and child.restarts == 1
    child.proc.wait(30)


def test_a_child_that_refused_its_settings_is_not(tmp_path):
    child = dead(tmp_path, REFUSED)
    first = child.proc
    assert child.restart_if_dead()  # reported once (the state changed)
    assert not child.restart_if_dead()
    assert child.proc is first and child.restarts == 0 and child.refused
