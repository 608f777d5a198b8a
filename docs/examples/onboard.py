"""A new member joins a cooperative and opens a savings account, through GraphQL with gql.

    COOPBRIDGE_URL    the gateway's GraphQL endpoint, e.g. https://coop.example/graphql
    COOPBRIDGE_TOKEN  a bearer token of the cooperative (staff)
    COOPERATIVE_ID    the cooperative's id

You choose the ids of what you create (UUIDs; keep no personal data in them): the member's
id is her global id and travels with her record to other nodes. Prints the ids as JSON.
"""

import asyncio
import json
import os
import uuid
from decimal import Decimal

from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport

RESULT = "{ __typename ... on CommandAccepted { visible } ... on Problem { code message } }"


async def send(session, mutation: str, input: dict, key: str) -> None:
    """One mutation; a typed problem (NotAMember, ValidationError …) stops the script."""
    name = mutation[0].upper() + mutation[1:]
    document = gql(f"mutation($input: {name}Input!, $key: String) "
                   f"{{ {mutation}(input: $input, idempotencyKey: $key) {RESULT} }}")
    answer = (await session.execute(document, variable_values={"input": input, "key": key})
              )[mutation]
    if answer["__typename"] != "CommandAccepted":
        raise SystemExit(f"{mutation}: {answer['code']}: {answer['message']}")


async def main() -> None:
    transport = AIOHTTPTransport(url=os.environ["COOPBRIDGE_URL"], headers={
        "Authorization": f"Bearer {os.environ['COOPBRIDGE_TOKEN']}"})
    cooperative = os.environ["COOPERATIVE_ID"]
    member, account = str(uuid.uuid4()), str(uuid.uuid4())
    async with Client(transport=transport) as session:
        found = await session.execute(gql("query($id: ID!) { cooperative(id: $id) { currency "
                                          "sharePrice { amount } } }"),
                                      variable_values={"id": cooperative})
        currency = found["cooperative"]["currency"]  # her accounts are in the cooperative's
        two_shares = str(2 * Decimal(found["cooperative"]["sharePrice"]["amount"]))
        await send(session, "registerMember", {"memberId": member, "personal": {
            "givenNames": "Amihan", "familyNames": "Dela Cruz", "dateOfBirth": "1991-02-11",
            "nationality": "PH", "gender": "FEMALE", "preferredLanguages": ["tl", "en"]}},
            key=f"register-{member}")
        await send(session, "startMembership", {
            "memberId": member, "cooperativeId": cooperative, "startedOn": "2026-01-15",
            "shareCapitalRequired": {"amount": two_shares, "currency": currency}},
            key=f"join-{member}")
        await send(session, "openAccount", {
            "accountId": account, "memberId": member, "cooperativeId": cooperative,
            "product": "SAVINGS", "currency": currency}, key=f"open-{account}")
        record = (await session.execute(gql("""query($id: ID!) { member(id: $id) {
            identity { givenNames } memberships { cooperativeId active }
            accounts { id product balance { amount currency } } } }"""),
            variable_values={"id": member}))["member"]
    print(json.dumps({"memberId": member, "accountId": account, "record": record}))


asyncio.run(main())
