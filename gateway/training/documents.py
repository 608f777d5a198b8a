"""The training feature's documents (pure): the courses of this node's cooperatives. (Her
enrolments and certificates are parts of her record: ``gateway.documents``.)

* ``courses``  course id -> ``CourseView``
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from gateway.documents import Doc
from schemas import training as t


class CourseView(Doc, kw_only=True):
    TABLE: ClassVar[str] = "courses"
    KEY: ClassVar[str] = "course_id"

    course_id: str
    offered: bool = False
    cooperative_id: str = ""
    titles: list[t.Title] = []
    kind: str = ""
    language_taught: str | None = None
    target_level: str | None = None
    skills: list[str] = []
    hours: int = 0
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    capacity: int = 0
    enrolled: int = 0
    completed: int = 0
