"""The member access feature's documents (pure). Her accesses are part of her record
(``MemberRecord.accesses``: a token is checked against the record it reads anyway); a code
waiting to be redeemed is found by its digest:

* ``activation_codes``  code digest -> ``ActivationCode``
* ``access_entries``    rows, key her member id, in time order (``history_sort``): each read
  of her record by a cooperative under her consent (``AccessEntry``)
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from gateway.documents import Doc, Row


class ActivationCode(Doc, kw_only=True):
    """A code issued: whose, for which access, until when. Whether it was redeemed is her
    access's (``AccessDoc.granted_at``); an expired one stays (a fold cannot see time
    pass: the reader checks ``expires_at``), and the service decides in the end."""

    TABLE: ClassVar[str] = "activation_codes"
    KEY: ClassVar[str] = "code_digest"

    code_digest: str
    member_id: str = ""
    access_id: str = ""
    expires_at: dt.datetime | None = None


class AccessEntry(Row, kw_only=True):
    """A cooperative read her record under her consents (``ConsentUsed``)."""

    TABLE: ClassVar[str] = "access_entries"

    at: dt.datetime
    reader: str  # the cooperative's id
    scopes: list[str]
    consent_ids: list[str]
    read: str  # m.ReadKind
