"""The member access feature's mutations. ``issueMemberAccess`` (the gateway makes the code,
shows it once and sends only its keyed digest) and ``redeemMemberAccess`` (open to a caller
without a token: the code is the credential) are built here, not generated from their
commands' contracts; ``revokeMemberAccess`` is generated like any other. Her own
``renewMemberToken`` and ``correctMyContact`` are ``me``'s."""

from __future__ import annotations

import strawberry

from gateway.access import who_may_send
from gateway.member_access import me
from gateway.member_access.access import issue_member_access, redeem_member_access
from schemas import membership as m

#: Commands with a mutation of their own (``MUTATIONS``): the gateway builds them.
BUILT_HERE = (m.IssueMemberAccess, m.RedeemMemberAccess)

#: The mutations this feature adds to the schema.
MUTATIONS = {
    "issueMemberAccess": strawberry.mutation(
        issue_member_access, description="Issue a member an activation code for her own "
        "access to her record (shown once, valid 15 minutes); she redeems it with "
        "redeemMemberAccess. " + who_may_send(m.IssueMemberAccess)),
    "redeemMemberAccess": strawberry.mutation(
        redeem_member_access, description="Redeem an activation code for her own member "
        "token (valid 7 days): no bearer token needed, the code is the credential; once "
        "only, before it expires. Any code that cannot be redeemed is ActivationInvalid, "
        "whatever the reason"),
    **me.MUTATIONS,
}
