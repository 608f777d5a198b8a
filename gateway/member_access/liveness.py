"""Whether a member's token still opens her door (issue 23): a signature proves who issued
it, not that her access is still live. Checked on every request and every socket against
her record in the views (one read of a document the request reads anyway): a revoked
access, one never granted, or an erased member is anonymous at once, whatever the token's
expiry says."""

from __future__ import annotations

from gateway.auth import Caller, Role


def live(caller: Caller | None, views) -> Caller | None:
    """``caller``, or None for a member whose access is not live now. Other roles pass as
    they are. Views that cannot answer (stopped) count as not live: closed, never open."""
    if caller is None or caller.role is not Role.MEMBER:
        return caller
    try:
        record = views.get("members", caller.subject)
    except RuntimeError:
        return None
    if record is None or record.erased:
        return None
    if any(access.access_id == caller.access_id and access.live
           for access in record.accesses):
        return caller
    return None
