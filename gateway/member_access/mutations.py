"""The member access feature's mutations. ``issueMemberAccess`` (the gateway makes the code,
shows it once and sends only its keyed digest) and ``redeemMemberAccess`` (open to a caller
without a token: the code is the credential) are built here, not generated from their
commands' contracts; ``revokeMemberAccess`` is generated like any other."""

from __future__ import annotations

from schemas import membership as m

#: Commands with a mutation of their own (``MUTATIONS``): the gateway builds them.
BUILT_HERE = (m.IssueMemberAccess, m.RedeemMemberAccess)

#: The mutations this feature adds to the schema (next: issue, redeem, renew).
MUTATIONS: dict = {}
