"""What a mutation answers: ``CommandAccepted`` or one ``Problem``, as the union
``MutationResult``. Besides the gateway's own problems (``ValidationError``,
``NotAuthorized``, ``Unavailable``, ``CommandRejected``), one error type per rejection code
the services and the runtime declare (``schemas.rejections``): a client switches on
``__typename`` or ``code``.
"""

from __future__ import annotations

import datetime
import typing

import strawberry

from schemas.rejections import REJECTION_CODES

#: Every rejection code the services and the runtime declare (``schemas.rejections``), in the
#: order the API publishes them; an undeclared one comes as ``CommandRejected``.
ERROR_CODES = tuple(REJECTION_CODES.published())


@strawberry.interface(description="Why a mutation did not happen: a stable code, a sentence")
class Problem:
    code: str = strawberry.field(
        description="a stable code to switch on: the type's own name, except on "
                    "CommandRejected, where it is the service's code")
    message: str = strawberry.field(
        description="what went wrong, in one English sentence for people; never personal data")


@strawberry.type(description="An event the command led to, as the service's reply names it")
class EventRef:  # its fields: the glossary's words for the reply's (schemas.runtime.EventRef)
    id: strawberry.ID
    type: str
    sequence: typing.Optional[int]


@strawberry.type(description="The command was accepted: its event is in the log")
class CommandAccepted:
    command_id: strawberry.ID = strawberry.field(
        description="the command's id: the same for every retry with the same idempotency key")
    aggregate_id: strawberry.ID = strawberry.field(
        description="the id of what the command acted on: a member's, a cooperative's, an "
                    "account's or a course's id")
    events: list[EventRef] = strawberry.field(
        description="the events it led to (one: a command is one fact)")
    visible: bool = strawberry.field(
        description="the gateway's views already show the change (read-your-writes)")


@strawberry.type(description="The input is not valid: a value out of its format or range, or "
                             "against a rule (a day that has not come, a membership ending "
                             "before it started)")
class ValidationError(Problem):
    field: typing.Optional[str] = strawberry.field(
        description="where the problem is, as a path into the arguments (input.amount, "
                    "idempotencyKey); null when it is no one field")


@strawberry.type(description="The caller may not send this command")
class NotAuthorized(Problem):
    pass


@strawberry.type(description="No answer in time: send again with the same idempotency key")
class Unavailable(Problem):
    pass


@strawberry.type(description="A rejection with a code this gateway does not know yet")
class CommandRejected(Problem):
    pass


@strawberry.type(description="This idempotency key was first used more than a week ago: what "
                             "its request did is no longer kept, and it is never decided "
                             "again; the member's record shows what it did, and a new request "
                             "needs a new key")
class IdempotencyKeyExpired(Problem):
    first_decided_on: datetime.date = strawberry.field(
        description="the day (UTC) the service decided the request first sent with this key")
    accepted: bool = strawberry.field(
        description="whether that request was accepted then (false: it was refused)")


#: The problems of a code declared in ``schemas`` that carry more than a code and a message.
_OWN = {"IdempotencyKeyExpired": IdempotencyKeyExpired}

ERROR_TYPES = {code: _OWN.get(code) or strawberry.type(
                   type(code, (Problem,), {}), description=f"the command was rejected: {code}")
               for code in ERROR_CODES if code != "ValidationError"}

#: Every problem a command may come to: the union of a mutation's result besides its success.
PROBLEMS = (ValidationError, NotAuthorized, Unavailable, CommandRejected,
            *ERROR_TYPES.values())

MutationResult = typing.Annotated[
    typing.Union[(CommandAccepted, *PROBLEMS)],
    strawberry.union("MutationResult", description=(
        "What a command came to: CommandAccepted, or one Problem (ask for __typename and "
        "`... on Problem { code message }`)")),
]


def problem(code: str, message: str, field: str | None = None):
    if code == "ValidationError":
        return ValidationError(code=code, message=message, field=field)
    cls = ERROR_TYPES.get(code)
    if cls is None or cls in _OWN.values():  # an own type's fields are its maker's to give
        return CommandRejected(code=code, message=message)
    return cls(code=code, message=message)


#: What a caller who may not send a command hears.
NOT_AUTHORIZED = NotAuthorized(code="NotAuthorized",
                               message="this caller may not send this command")
