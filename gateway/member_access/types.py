"""The member access feature's GraphQL types."""

from __future__ import annotations

import datetime as dt
import typing

import strawberry

from gateway.results import PROBLEMS


@strawberry.input(description="Whose activation code to issue")
class IssueMemberAccessInput:
    member_id: strawberry.ID = strawberry.field(description="the member's global id")


@strawberry.type(description="An activation code for her own access, to hand to her: shown "
                             "this once (the node keeps only a keyed digest of it)")
class MemberAccessCode:
    access_id: strawberry.ID = strawberry.field(
        description="the access it opens once redeemed (her cooperative revokes it by it)")
    code: str = strawberry.field(
        description="12 characters in three groups (7KQ2-M9XD-40TB); she types it on /me")
    expires_at: dt.datetime = strawberry.field(
        description="when it can no longer be redeemed (15 minutes after it was issued)")


@strawberry.input(description="The activation code she was handed")
class RedeemMemberAccessInput:
    code: str = strawberry.field(description="as handed to her: any case, with or without "
                                             "dashes or spaces")


@strawberry.type(description="Her own token: it reads and acts for her alone")
class MemberToken:
    token: str = strawberry.field(description="a bearer token (role member) for this node")
    member_id: strawberry.ID = strawberry.field(description="her global member id")
    expires_at: dt.datetime = strawberry.field(
        description="when it stops working (renew it before: renewMemberToken)")


IssueMemberAccessResult = typing.Annotated[
    typing.Union[(MemberAccessCode, *PROBLEMS)],
    strawberry.union("IssueMemberAccessResult",
                     description="Her activation code, or why it was not issued")]
RedeemMemberAccessResult = typing.Annotated[
    typing.Union[(MemberToken, *PROBLEMS)],
    strawberry.union("RedeemMemberAccessResult",
                     description="Her own token, or why the code was not taken")]
