"""The words of the printed record and of her page, marked for the catalogues
(``gateway.i18n.catalogues``): headings, labels, empty states, the fallback mark."""

from __future__ import annotations

from gateway.i18n.catalogues import N_

TITLE = N_("Member record")
EYEBROW = N_("Cooperative member record")
MEMBER_ID = N_("Member id")
ISSUED_BY = N_("Issued by")
PRINTED = N_("Printed")
AT_A_GLANCE = N_("At a glance")
VERIFY = N_("Verify this record")
SCAN = N_("Scan: a signed summary (memberships, loan repayments, certificates; no personal "
          "details), valid until {date}. Check it with the node's public keys:")
FOOT = N_("This page shows the record as this node holds it today. Only the QR code is "
          "signed: to trust a printed copy, scan it and check the signature with the issuing "
          "node's public keys.")
PRINT = N_("Print")
HINT = N_("A printable copy of a member's record, for her to keep. The QR code holds a signed "
          "summary that any cooperative can check without a network.")
FORGET = N_("Forget token")
COOPERATIVES = N_("Cooperatives")
SAVINGS = N_("Savings and shares")
LOANS = N_("Loans and how they were repaid")
SENT_HOME = N_("Money sent home")
CERTIFICATES = N_("Certificates")
MEMBER_SINCE = N_("Member since")
REPAYMENTS = N_("Loan repayments")
ON_TIME_LATE = N_("{on_time} on time, {late} late")
NO_MEMBERSHIPS = N_("No memberships.")
NO_ACCOUNTS = N_("No savings or share accounts.")
NO_LOANS = N_("No loans.")
NO_REMITTANCES = N_("No remittances.")
NO_CERTIFICATES = N_("No certificates.")
COOPERATIVE = N_("Cooperative")
COUNTRY = N_("Country")
ROLE = N_("Role")
FROM = N_("From")
UNTIL = N_("Until")
ACCOUNT = N_("Account")
BALANCE = N_("Balance")
CERTIFICATE = N_("Certificate")
HOURS = N_("Hours")
ISSUED = N_("Issued")
LEVEL = N_("Level")
#: after a text shown in a language she did not ask for: "(in Spanish)"
IN_LANGUAGE = N_("(in {language})")

# -- the signed record and certificates (``gateway.records.export``)
RECORD_DESCRIPTION = N_("Her memberships, savings, loans and certificates at the cooperatives "
                        "of one coopbridge node, as she consented to share them")
COURSE_OF_HOURS = N_("{title}: a course of {hours} hours")
CRITERIA = N_("Completed {hours} hours of {title} and passed its assessment")

# -- the sheet's cells (``gateway.records.sheet``)
MEMBER_TODAY = N_("member today")
ENDED_BECAUSE = N_("{day} ({reason})")
STATUS = N_("Status")
OPEN = N_("open")
CLOSED = N_("closed")
TERM = N_("Term")
MONTHS = N_("{count} months")
LOAN = N_("Loan")
STILL_OWED = N_("Still owed")
REPAYMENTS_MADE = N_("{made} made: {on_time} on time, {late} late")
REPAID = N_("repaid")
BEING_REPAID = N_("being repaid")
CORRIDOR = N_("From → to")
TRANSFERS = N_("Transfers")
SENT = N_("Sent")
FEES_PAID = N_("Fees paid")
FEES_SHARE = N_("Fees / sent")
KIND = N_("Kind")
SKILLS = N_("Skills")
REVOKED = N_("{title} (revoked)")
#: a part of her history a record from another node brought (her record came home)
FROM_NODE = N_("{name} · from node {node}")
PRODUCTS = {"savings": N_("Savings"), "share_capital": N_("Share capital"), "loan": N_("Loan")}
#: her part in assemblies (never her choice)
ASSEMBLIES = N_("Assemblies")
NO_ASSEMBLIES = N_("No assemblies.")
ASSEMBLY = N_("Assembly")
MEETING = N_("Meeting")
VOTED = N_("Voted")
OFFICES = N_("Offices")
VOTING_OPEN = N_("voting not closed")
VOTES = {"remote": N_("yes, remotely"), "proxy": N_("yes, by proxy"),
         "in_person": N_("yes, in person"), "no": N_("no")}
#: the work she did through her cooperatives (issue 26): placements that ended
WORK = N_("Work through cooperatives")
NO_WORK = N_("No work through cooperatives.")
OCCUPATION = N_("Occupation")
ENDINGS = {"completed": N_("completed"), "worker_left": N_("she left"),
           "employer_ended": N_("ended by the employer"),
           "cooperative_ended": N_("ended by the cooperative")}
ROLES = {"member": N_("Member"), "worker_member": N_("Worker member"),
         "board_member": N_("Board member")}
REASONS = {"returned_home": N_("returned home"), "moved": N_("moved"),
           "resigned": N_("resigned"), "deceased": N_("deceased"), "expelled": N_("expelled")}
KINDS = {"language": N_("Language"), "vocational": N_("Vocational"),
         "business_start_up": N_("Business start-up"),
         "financial_literacy": N_("Financial literacy"), "governance": N_("Governance")}
