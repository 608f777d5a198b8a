#!/bin/sh
# Deposit 125.50 into a savings account with curl, then read the account's balance.
# Sending it again with the same idempotency key changes nothing and gives the same answer.
#   COOPBRIDGE_URL    the gateway's GraphQL endpoint, e.g. https://coop.example/graphql
#   COOPBRIDGE_TOKEN  a bearer token of the account's cooperative (staff)
#   MEMBER_ID, ACCOUNT_ID, KEY  whose account, which account, your idempotency key
#   CURRENCY          the account's currency (default EUR)
set -eu

graphql() {  # $1: the query (no double quotes in it), $2: its variables as JSON
  query=$(printf '%s' "$1" | tr '\n' ' ')  # a JSON string holds no raw line break
  curl --fail-with-body --silent --show-error "$COOPBRIDGE_URL" \
    --header "Authorization: Bearer $COOPBRIDGE_TOKEN" \
    --header "Content-Type: application/json" \
    --data "$(printf '{"query": "%s", "variables": %s}' "$query" "$2")"
  echo
}

graphql 'mutation($input: DepositFundsInput!, $key: String) {
  depositFunds(input: $input, idempotencyKey: $key) {
    __typename
    ... on CommandAccepted { commandId visible }
    ... on Problem { code message } } }' \
  "{\"input\": {\"accountId\": \"$ACCOUNT_ID\", \"amount\": {\"amount\": \"125.50\", \"currency\": \"${CURRENCY:-EUR}\"}}, \"key\": \"$KEY\"}"

graphql 'query($id: ID!) { member(id: $id) { accounts { id balance { amount currency } } } }' \
  "{\"id\": \"$MEMBER_ID\"}"
