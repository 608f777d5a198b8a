"""The words of her page (``/me``), marked for the catalogues (``gateway.i18n.catalogues``).
``PAGE``: by the key the page finds each under (``data-word``); the rest are the worded
values of her lists (``gateway.member_access.page``)."""

from __future__ import annotations

from gateway.i18n.catalogues import N_

PAGE = {
    "title": N_("My record"),
    "intro": N_("Your record at your cooperatives: you decide who may read it."),
    "sign_in": N_("Open your record"),
    "code": N_("Your activation code"),
    "code_hint": N_("Your cooperative gives you a code of 12 characters. It works once, for "
                    "15 minutes."),
    "open": N_("Open my record"),
    "opening": N_("Opening…"),
    "code_refused": N_("This code cannot be used. Ask your cooperative for a new one."),
    "too_many": N_("Too many tries. Wait a minute and try again."),
    "sign_out": N_("Sign out"),
    "loading": N_("Loading…"),
    "failed": N_("Your record could not be loaded. Try again later."),
    "record": N_("My record, in my languages"),
    "consents": N_("Who may read my record"),
    "no_consents": N_("You have not let anyone read your record."),
    "revoke": N_("Revoke"),
    "confirm_revoke": N_("Stop this cooperative from reading your record?"),
    "yes_revoke": N_("Yes, revoke"),
    "cancel": N_("Cancel"),
    "revoked_now": N_("Revoked: it can no longer read your record."),
    "exports": N_("Records I shared"),
    "no_exports": N_("You have not shared a record."),
    "readings": N_("Who read my record"),
    "no_readings": N_("No one has read your record under your consent."),
    "qr": N_("My record on paper"),
    "qr_hint": N_("A signed summary: any cooperative can check it without a network."),
    "print": N_("Open the printable record"),
}

SCOPES = {"identity": N_("who you are"), "membership": N_("your memberships"),
          "savings": N_("your savings and loans"), "training": N_("your courses"),
          "governance": N_("your assemblies and votes"),
          "insurance": N_("your insurance policies and claims"),
          "work": N_("the work you did through your cooperatives")}
READS = {"record": N_("your record"), "timeline": N_("your history"),
         "events": N_("your news as it happens")}
JOIN = N_("may admit you as a member, once")
UNTIL = N_("until {day}")
ACTIVE = N_("active")
REVOKED = N_("revoked")
EXPIRED = N_("expired")
A_NODE = N_("the coopbridge node {node}")
