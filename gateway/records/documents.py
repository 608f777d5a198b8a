"""The records feature's documents (pure): the revocation status lists of the records and
certificates this node issued. (What she exported and imported are parts of her record:
``gateway.documents``.)

* ``statuslists``  status list id -> ``StatusListView`` (revoked indices)
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from gateway.documents import Doc


class StatusListView(Doc, kw_only=True):
    """One member's records' revocation bits: an opaque list id, the indices revoked."""

    TABLE: ClassVar[str] = "statuslists"
    KEY: ClassVar[str] = "list_id"

    list_id: str
    revoked: list[int] = []


_STATUS_LISTS = uuid.UUID("0b6c3f0e-8f43-4a8e-9a55-0d2b8f1c7e10")


def status_list_id(member_id: str, of: str = "records") -> str:
    """The id of a member's status list for her ``records`` (index: the export event's
    sequence) or her ``certificates`` (index: the certificate's position in her record):
    stable, and not the member id itself."""
    return str(uuid.uuid5(_STATUS_LISTS, f"{of}/{member_id}"))
