"""The savings service as its contracts name it: the name of its topics and wire types, the
commands only its courier and the relay send, and the codes it rejects a command with
(``schemas.rejections``)."""

from __future__ import annotations

from schemas.rejections import declare_rejections

SERVICE = "savings"

#: Commands only the courier, the relay and the insurance service's schedulers send; the
#: gateway never offers them to partners (a premium's arrears get a mutation of their own).
INTERNAL_COMMANDS = ("ReceiveRemittance", "ConfirmRemittanceDelivered", "RefundRemittance",
                     "ReceiveSavingsTransfer", "ConfirmSavingsTransfer", "RefundSavingsTransfer",
                     "PayPremium", "ConfirmPremium", "RefundPremium", "ReceiveBenefit",
                     # the placement service's placer's
                     "ReceiveWage")

#: The codes the savings service rejects a command with (besides the runtime's).
REJECTIONS = declare_rejections(SERVICE, {
    "AccountAlreadyOpen": "an account with this id is open",
    "AccountClosed": "the account is closed",
    "AccountNotEmpty": "the balance has nowhere to go: move it out, or name an account",
    "CurrencyMismatch": "an amount is not in the account's (or the cooperative's) currency",
    "DuplicateRemittance": "a remittance with this id was sent, or received, already",
    "InsufficientFunds": "the balance does not cover it; nothing was taken",
    "InvalidTransferTarget": "the balance goes only to another open account of the same member "
                             "and currency",
    "LoanAlreadyDisbursed": "the account holds a loan already",
    "LoanOutstanding": "the loan is not repaid",
    "MembershipActive": "shares are paid back once the membership has ended",
    "NoActiveLoan": "there is no loan to repay on this account",
    "NotAMember": "she has no active membership in the account's cooperative",
    "NothingToRedeem": "the account holds no shares",
    "Overpayment": "more than is owed",
    "RateUnavailable": "no exchange rate is known between the two currencies",
    "RemittanceSettled": "the remittance was delivered or refunded already",
    "RemittancesPending": "money sent from the account is not settled yet",
    "SharesNotRedeemed": "the account holds shares: redeem them first",
    "UnknownAccount": "no account has this id",
    "UnknownBeneficiary": "no open savings account of this node has this id",
    "UnknownCooperative": "no cooperative is registered with this id",
    "UnknownRemittance": "no remittance with this id left the account",
    "WrongProduct": "the account is of another product than the command takes",
})
#: ... about savings moving home between nodes, and credit history from other nodes.
TRANSFER_REJECTIONS = declare_rejections(SERVICE, {
    "DuplicateTransfer": "money with this id left the account already",
    "TransferAlreadyReceived": "the transfer was credited already",
    "TransferSettled": "the transfer was delivered or refunded already",
    "TransfersPending": "savings sent home from the account are not settled yet",
    "UnknownTransfer": "no transfer home with this id left the account",
    "WrongBeneficiary": "the account belongs to another member",
    "WrongNode": "only the node the money went to settles the transfer",
    "PoorCreditHistory": "her repayment history imported from other nodes is mostly late",
    "UnknownPeer": "the receiving node is not a trusted peer of this node (the gateway "
                   "answers it before anything is sent)",
}, release=2)
#: ... about insurance premiums and benefits (issue 25).
PREMIUM_REJECTIONS = declare_rejections(SERVICE, {
    "PremiumAlreadyPaid": "the period's premium of this policy was paid, or is on its way, "
                          "already",
    "PremiumsPending": "premiums paid from the account are not settled yet",
    "BenefitAlreadyReceived": "this payment of the benefit was credited already",
}, release=7)
#: ... about wages a placement credits (issue 26).
WAGE_REJECTIONS = declare_rejections(SERVICE, {
    "WageAlreadyReceived": "this settlement's wage was credited already",
}, release=8)
