"""Contracts of the savings service: accounts, savings, share capital, loans, remittances.

One aggregate, the **account** (key ``account_id``), of one of three products: ``savings``
(deposits, withdrawals, remittances and transfers out), ``share_capital`` (the member's
shares in the cooperative) and ``loan`` (one loan: disbursement, schedule, repayments).

Money is ``fields.Money``: integer minor units and an ISO 4217 code. Rates are decimal
strings (``"1.0842"``: one unit of the sending currency buys this many of the receiving
one); the rate and fee used are written on the event, so history never changes with rates.

A remittance or transfer leaves the sender in one event (``RemittanceSent``), arrives in
another on the beneficiary's account (``RemittanceReceived``), and ends on the sender's as
``RemittanceDelivered`` or ``RemittanceRefunded``: what left equals what arrived plus the
fee, or is given back whole.

Deposits, withdrawals and remittances sent carry ``booked_on`` (since version 2): the day the
cooperative booked them, which may be earlier than the day they were decided (a back office
entering last month's till), and which places them in a month.

A module each: ``accounts`` (opening, closing, savings, shares), ``loans``, ``remittances``,
``transfers`` (savings moving home to another node), ``premiums`` (an insurance premium paid
to another node, a benefit received); ``service`` names the service and
declares its rejection codes, ``terms`` what the fields hold, ``earlier`` the versions read
through upcasters. Everything is importable from here (``from schemas import savings as s``).
"""

from schemas.savings.accounts import (  # noqa: F401
    OpenAccount, AccountOpened, CloseAccount, AccountClosed, DepositFunds, FundsDeposited,
    WithdrawFunds, FundsWithdrawn, PurchaseShares, SharesPurchased, RedeemShares,
    SharesRedeemed,
)
from schemas.savings.earlier import (  # noqa: F401
    DepositFundsV1, FundsDepositedV1, WithdrawFundsV1, FundsWithdrawnV1, SendRemittanceV1,
    RemittanceSentV1,
)
from schemas.savings.loans import (  # noqa: F401
    DisburseLoan, LoanDisbursed, RecordRepayment, LoanRepaymentRecorded,
)
from schemas.savings.premiums import (  # noqa: F401
    PayPremium, PremiumPaid, ConfirmPremium, PremiumDelivered, RefundPremium, PremiumRefunded,
    ReceiveBenefit, BenefitReceived, ReceiveWage, WageReceived,
)
from schemas.savings.remittances import (  # noqa: F401
    SendRemittance, RemittanceSent, ReceiveRemittance, RemittanceReceived,
    ConfirmRemittanceDelivered, RemittanceDelivered, RefundRemittance, RemittanceRefunded,
)
from schemas.savings.service import (  # noqa: F401
    SERVICE, INTERNAL_COMMANDS, REJECTIONS, TRANSFER_REJECTIONS,
)
from schemas.savings.terms import (  # noqa: F401
    Decimal, Reason, Count, Corridor, corridor, BookedOn, Product, Timing, Beneficiary, Payout,
    PayoutRecipient, Instalment,
)
from schemas.savings.transfers import (  # noqa: F401
    TransferSavingsHome, SavingsSentHome, ReceiveSavingsTransfer, SavingsTransferReceived,
    ConfirmSavingsTransfer, SavingsTransferDelivered, RefundSavingsTransfer,
    SavingsTransferRefunded,
)

