"""The printable record: a signed summary of her record (``vc+jwt``, no identity) that a
cooperative verifies offline, as a QR code for her printed copy (``printableRecord``; the
page ``/record``). Reads the views; signs with the node key.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import segno
import strawberry
from starlette.routing import Route
from strawberry.types import Info

from gateway.access import active_member_of
from gateway.context import GatewayContext
from gateway.documents import MemberRecord
from gateway.pages import page
from gateway.records import credentials as vc
from gateway.records.signing import sign
from gateway.records.subject import MEMBER_URN, record_subject
from gateway.records.types import PrintableRecord
from services import config

#: The printable record's summary credential: its type, how long it is valid, and the most
#: it may weigh (a QR code of version 40-M holds 2,331 bytes; under 2,000 it stays readable
#: printed at 6 cm).
SUMMARY_TYPE = "CoopbridgeMemberRecordSummary"
SUMMARY_DAYS = 365
MAX_SUMMARY_BYTES = 2_000


def record_summary(record: MemberRecord, views, compact: bool = False) -> dict:
    """The ``credentialSubject`` of the printable summary: no identity field, only what a
    cooperative needs to trust her history (a repayment made early counts as on time);
    ``compact`` keeps counts only (for a record too long for a QR code)."""
    full = record_subject(record, views, frozenset({"membership", "savings", "training"}),
                          None, {})
    loans = [{"repaidOnTime": x["repaidOnTime"] + x["repaidEarly"], "repaidLate": x["repaidLate"],
              "closed": x["closed"]} for x in full["savings"]["loans"]]
    certificates = [{"title": c["title"], **({"level": c["level"]} if c["level"] else {})}
                    for c in full["training"]["certificates"] if not c["revoked"]]
    subject: dict[str, Any] = {"id": MEMBER_URN + record.member_id}
    if not compact:
        subject["memberships"] = [
            {"cooperative": x["cooperative"]["name"], "country": x["cooperative"]["country"],
             "from": x["startedOn"], **({"until": x["endedOn"]} if x["endedOn"] else {})}
            for x in full["memberships"]]
        subject["loans"] = loans
        subject["certificates"] = certificates
        return subject
    subject["memberships"] = {"count": len(full["memberships"]),
                              "countries": sorted({x["cooperative"]["country"]
                                                   for x in full["memberships"]}),
                              "since": min((x["startedOn"] for x in full["memberships"]),
                                           default=None)}
    subject["loans"] = {"count": len(loans),
                        "repaidOnTime": sum(x["repaidOnTime"] for x in loans),
                        "repaidLate": sum(x["repaidLate"] for x in loans)}
    subject["certificates"] = {"count": len(certificates),
                               "levels": sorted({c["level"] for c in certificates
                                                 if "level" in c})}
    return subject


def summary_credential(node: str, record: MemberRecord, views, now: dt.datetime) -> str:
    """The signed summary (``vc+jwt``): valid a year, no status entry (it is verified offline,
    where no status list can be fetched; it is a snapshot, dated by ``validFrom``), cut to
    counts when the full summary would not fit a readable QR code."""
    now = now.astimezone(dt.UTC).replace(microsecond=0)

    def stamp(moment: dt.datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    for compact in (False, True):
        claims = {"@context": [vc.CONTEXT, vc.UNDEFINED_TERMS_CONTEXT],
                  "type": ["VerifiableCredential", SUMMARY_TYPE],
                  "issuer": vc.node_issuer(node), "validFrom": stamp(now),
                  "validUntil": stamp(now + dt.timedelta(days=SUMMARY_DAYS)),
                  "credentialSubject": record_summary(record, views, compact)}
        token = sign(node, claims)
        if len(token) <= MAX_SUMMARY_BYTES:
            break
    return token


def qr_svg(text: str) -> str:
    """``text`` as a QR code: an SVG document (with its namespace, so that it renders inline
    in HTML and parsed as XML alike) that scales with its box (a viewBox, no size)."""
    code = segno.make(text, error="m", boost_error=False, micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", xmldecl=False, svgns=True, nl=False, scale=1, border=4,
              omitsize=True, svgclass="qr", title="Signed summary of this record")
    return out.getvalue().decode()


async def printable_record(info: Info[GatewayContext, None],
                           member_id: strawberry.ID) -> PrintableRecord | None:
    context = info.context
    record = context.views.get("members", str(member_id))
    if (record is None or not record.registered or record.erased
            or not active_member_of(context.caller, record)):
        return None
    credential = summary_credential(context.node, record, context.views, context.now)
    return PrintableRecord(credential=credential, qr_svg=qr_svg(credential),
                           verify_url=f"{config.public_url()}/.well-known/jwks.json",
                           record=record, valid_until=(
                               context.now + dt.timedelta(days=SUMMARY_DAYS)).date())


#: The page of her printed copy (``gateway/static/record.html`` and ``record.js``).
ROUTES = [Route("/record", page("record.html"), methods=["GET", "HEAD"])]
