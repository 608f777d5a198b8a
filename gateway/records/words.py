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
