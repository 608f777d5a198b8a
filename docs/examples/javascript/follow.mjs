// Follow a member's events live (graphql-transport-ws, the graphql-ws client), deposit into
// her account over HTTP (fetch), and print the event the deposit causes.
//   COOPBRIDGE_URL    the gateway's GraphQL endpoint, e.g. https://coop.example/graphql
//   COOPBRIDGE_TOKEN  a bearer token of her cooperative (staff)
//   MEMBER_ID, ACCOUNT_ID, CURRENCY (the account's; default EUR)
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const { COOPBRIDGE_URL: url, COOPBRIDGE_TOKEN: token, MEMBER_ID, ACCOUNT_ID } = process.env;
const currency = process.env.CURRENCY ?? "EUR";

const live = createClient({
  url: url.replace(/^http/, "ws"),
  webSocketImpl: WebSocket,
  // the token travels in connection_init; without a valid one the socket closes with 4403
  connectionParams: { Authorization: `Bearer ${token}` },
});

const event = new Promise((resolve, reject) => {
  const stop = live.subscribe(
    {
      query: "subscription($id: ID!) { memberEvents(memberId: $id) { type summary at } }",
      variables: { id: MEMBER_ID },
    },
    { next: (message) => { stop(); resolve(message.data.memberEvents); }, error: reject,
      complete: () => {} });
});

await new Promise((resolve) => setTimeout(resolve, 1000)); // subscribed before the deposit

const response = await fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
  body: JSON.stringify({
    query: `mutation($input: DepositFundsInput!) { depositFunds(input: $input) {
      __typename ... on CommandAccepted { visible } ... on Problem { code message } } }`,
    variables: { input: { accountId: ACCOUNT_ID, amount: { amount: "20.00", currency } } },
  }),
});
const deposit = (await response.json()).data.depositFunds;

console.log(JSON.stringify({ deposit, event: await event }));
await live.dispose();
