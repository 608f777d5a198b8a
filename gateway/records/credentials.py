"""Portable records and certificates as W3C Verifiable Credentials 2.0, secured with JOSE
(VC-JOSE), and their revocation through W3C Bitstring Status Lists.

A credential is a compact JWS: header ``{"alg": "EdDSA", "typ": "vc+jwt", "kid": <the key's
URL at the issuing gateway>}``, payload the credential itself (``@context``, ``type``,
``issuer``, ``validFrom``, ``validUntil``, ``credentialSubject``, ``credentialStatus``) with
the JWT claims that mirror it beside it (``iss``, ``jti``, ``sub``, ``nbf``, ``exp``, as Open
Badges 3.0 asks), signed with the node's Ed25519 key. Anyone verifies it offline with the
issuing node's JWKS (``/.well-known/jwks.json``) and any standard JOSE library: nothing here
is coopbridge-specific on the wire. Every term is defined by a JSON-LD context (the record's
own terms by the W3C's undefined-terms context, last), and every id is an absolute IRI.

* Member records: ``type`` ``CoopbridgeMemberRecord``.
* Certificates: Open Badges 3.0 ``OpenBadgeCredential`` (an ``AchievementSubject`` with its
  ``Achievement``, aligned to ESCO skills, ISCO-08 occupations and CEFR levels); header
  ``typ`` ``JWT``, as Open Badges requires.
* Status lists: ``BitstringStatusListCredential`` (Bitstring Status List v1.0). A credential's
  ``credentialStatus`` points at one list and one index in it; the issuer revokes by setting
  that bit and publishing the list again, signed like any other credential.

This node signs with the JWS algorithm ``EdDSA`` (docs/credentials.md says why); checking
a credential is ``gateway.records.verification``'s. Pure functions: keys are passed in.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import re
import zlib
from collections.abc import Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.runtime.keys import kid_of

CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
#: VC 2.0: a credential whose terms no published context defines names this context last; it
#: maps them to ``https://www.w3.org/ns/credentials/undefined-term#<term>``.
UNDEFINED_TERMS_CONTEXT = "https://www.w3.org/ns/credentials/undefined-terms/v2"
#: The JWT claim ``jti`` beside the credential: the VC 2.0 context defines ``iss``, ``sub``,
#: ``nbf`` and ``exp`` for that place but not ``jti``, nor does the Open Badges context; this
#: is the definition 1EdTech's own validator adds (identical, so never a conflict with it).
JWT_ID_CONTEXT = {"jti": {"@id": "https://www.iana.org/assignments/jwt#jti", "@type": "@id"}}
RECORD_TYPE = "CoopbridgeMemberRecord"
CERTIFICATE_TYPE = "OpenBadgeCredential"
#: Open Badges 3.0 credential types: their JWT header says ``typ: JWT`` (Open Badges), the
#: others ``typ: vc+jwt`` (VC-JOSE-COSE).
OPEN_BADGES_TYPES = frozenset({CERTIFICATE_TYPE, "AchievementCredential"})
STATUS_LIST_TYPE = "BitstringStatusListCredential"
#: JWS algorithms of an Ed25519 signature: RFC 8037's ``EdDSA`` (what this node signs with)
#: and RFC 9864's fully-specified ``Ed25519`` (accepted, for peers that sign with it).
ED25519_ALGORITHMS = ("EdDSA", "Ed25519")
#: The JWT claims that mirror a credential (``jwt_claims``).
JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp")

# Bitstring Status List v1.0: at least 16 KB uncompressed, one bit per credential.
STATUS_LIST_SIZE = 131_072
_MAX_STATUS_LIST_BYTES = 16 * 1024 * 1024  # what a verifier expands at most (gzip bombs)

# Open Badges 3.0 AchievementType vocabulary; other values must start with "ext:".
ACHIEVEMENT_TYPES = frozenset({
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree",
    "Award", "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion",
    "Certification", "CommunityService", "Competency", "Course", "CoCurricular", "Degree",
    "Diploma", "DoctoralDegree", "Fieldwork", "GeneralEducationDevelopment",
    "JourneymanCertificate", "LearningProgram", "License", "Membership",
    "ProfessionalDoctorate", "QualityAssuranceCredential", "MasterCertificate", "MasterDegree",
    "MicroCredential", "ResearchDoctorate", "SecondarySchoolDiploma"})
CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
CEFR_URL = "https://www.coe.int/en/web/common-european-framework-reference-languages"
_ESCO_URI = re.compile(
    r"^http://data\.europa\.eu/esco/(skill|occupation|isco)/[A-Za-z0-9.\-]{1,64}$")
_ISCO_CODE = re.compile(r"^[0-9]{1,4}$")
BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def node_issuer(node: str) -> str:
    """A node's issuer id in credentials."""
    return f"urn:coopbridge:node:{node}"


def sign_credential(credential: dict[str, Any], key: Ed25519PrivateKey,
                    kid: str | None = None) -> str:
    """The compact JWS of a credential: the credential with its ``jwt_claims`` beside it,
    header ``typ`` ``JWT`` for an Open Badge, ``vc+jwt`` otherwise. ``kid`` names the key:
    the issuing gateway's URL of it (``key_url``); by default its thumbprint, the ``kid`` a
    JWKS made without a gateway URL gives it."""
    typ = "JWT" if is_open_badge(credential) else "vc+jwt"
    return jwt.encode({**credential, **jwt_claims(credential)}, key, algorithm="EdDSA",
                      headers={"typ": typ, "kid": kid or kid_of(key)})


def jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The JWT claims that mirror a credential, those of its members it has: ``iss`` its
    issuer's id, ``jti`` its id, ``sub`` its one subject's id, ``nbf`` and ``exp`` its
    ``validFrom`` and ``validUntil`` (NumericDate). Open Badges 3.0 requires them beside an
    Open Badge; VC-JOSE-COSE allows them when they do not contradict the credential."""
    subject = credential.get("credentialSubject")
    start, end = _date(credential.get("validFrom")), _date(credential.get("validUntil"))
    claims = {"iss": _issuer_id(credential), "jti": credential.get("id"),
              "sub": subject.get("id") if isinstance(subject, dict) else None,
              "nbf": int(start.timestamp()) if start else None,
              "exp": int(end.timestamp()) if end else None}
    return {name: value for name, value in claims.items() if isinstance(value, (str, int))}


def _timestamp(moment: dt.datetime) -> str:
    """A VC date-time in whole seconds, so that its JWT NumericDate equals it."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _status_entry(status_list: str, status_index: int) -> dict[str, str]:
    """A ``BitstringStatusListEntry`` for revocation: bit ``status_index`` of ``status_list``."""
    if not 0 <= status_index < STATUS_LIST_SIZE:
        raise ValueError(f"a status index is in [0, {STATUS_LIST_SIZE})")
    return {"id": f"{status_list}#{status_index}", "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation", "statusListIndex": str(status_index),
            "statusListCredential": status_list}


def member_record_credential(*, node: str, credential_id: str, subject: dict[str, Any],
                             valid_from: dt.datetime, valid_until: dt.datetime,
                             status_list: str, status_index: int,
                             names: list[dict] | None = None,
                             descriptions: list[dict] | None = None) -> dict[str, Any]:
    """A member record as a Verifiable Credential 2.0 (unsigned). Its subject's terms are
    coopbridge's own, defined by no published context: the undefined-terms context comes
    last, as VC 2.0 requires then (docs/credentials.md says why not a context of ours).
    ``names``, ``descriptions``: its ``name`` and ``description`` in several languages
    (language value objects, VC 2.0 section 11.1)."""
    described = {key: value for key, value in (("name", names), ("description", descriptions))
                 if value}
    return {
        "@context": [CONTEXT, JWT_ID_CONTEXT, UNDEFINED_TERMS_CONTEXT],
        "id": f"urn:uuid:{credential_id}",
        "type": ["VerifiableCredential", RECORD_TYPE],
        "issuer": node_issuer(node),
        "validFrom": _timestamp(valid_from),
        "validUntil": _timestamp(valid_until),
        **described,
        "credentialSubject": subject,
        "credentialStatus": _status_entry(status_list, status_index),
    }


def isco08_url(code: str) -> str:
    """ESCO's concept of an ISCO-08 group (1 to 4 digits): where its label is published, in
    every EU language. The same URL in a certificate's alignment and a record's work."""
    if not _ISCO_CODE.match(code):
        raise ValueError("an ISCO-08 group is 1 to 4 digits")
    return f"http://data.europa.eu/esco/isco/C{code}"


# ---------------------------------------------------------------- Open Badges 3.0 certificates

def alignment(framework: str, code: str, name: str,
              description: str | None = None) -> dict[str, Any]:
    """An Open Badges 3.0 ``Alignment`` to a skill, occupation or level.

    ``framework`` is ``"ESCO"`` (``code`` the ESCO skill or occupation URI), ``"ISCO-08"``
    (``code`` the 1 to 4 digit group, resolved to ESCO's ISCO-08 concept) or ``"CEFR"``
    (``code`` the level, A1 … C2). ``name`` becomes ``targetName``, ``description``
    ``targetDescription``."""
    if framework == "ESCO" and _ESCO_URI.match(code):
        url, target_code = code, code.rsplit("/", 1)[1]
    elif framework == "ISCO-08" and _ISCO_CODE.match(code):
        url, target_code = isco08_url(code), code
    elif framework == "CEFR" and code in CEFR_LEVELS:
        url, target_code = CEFR_URL, code
    else:
        raise ValueError("an alignment is an ESCO URI, an ISCO-08 code or a CEFR level")
    if not name:
        raise ValueError("an alignment has a name")
    described = {"type": ["Alignment"], "targetName": name, "targetUrl": url,
                 "targetFramework": framework, "targetCode": target_code}
    if description:
        described["targetDescription"] = description
    return described


_ACHIEVEMENT_FIELDS = {"id", "name", "description", "criteria", "achievementType", "alignment"}
#: An achievement's own language, as the Open Badges schema writes a BCP 47 tag.
IN_LANGUAGE = re.compile(r"^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
#: Its name, description and criteria in several languages (language value objects): Open
#: Badges types the three as single strings, so they travel beside them, under terms defined
#: here (inline, like ``jti``) for the same properties as the strings.
LANGUAGE_MAPS = ("nameInLanguages", "descriptionInLanguages", "narrativeInLanguages")
LANGUAGE_MAPS_CONTEXT = {
    "nameInLanguages": {"@id": "https://schema.org/name", "@container": "@set"},
    "descriptionInLanguages": {"@id": "https://schema.org/description", "@container": "@set"},
    "narrativeInLanguages": {"@id": "https://purl.imsglobal.org/spec/vc/ob/vocab.html#narrative",
                             "@container": "@set"},
}
_OPTIONAL_FIELDS = {"alignment", "inLanguage", *LANGUAGE_MAPS}


def certificate_credential(*, node: str, issuer_name: str, credential_id: str,
                           subject_id: str, achievement: dict[str, Any],
                           level: str | None = None, valid_from: dt.datetime,
                           valid_until: dt.datetime | None, status_list: str,
                           status_index: int) -> dict[str, Any]:
    """A certificate as an Open Badges 3.0 ``OpenBadgeCredential`` (VC 2.0, unsigned).

    ``achievement`` holds the Achievement's fields: ``id``, ``name``, ``description``,
    ``criteria`` (the narrative: what the learner did to earn it), ``achievementType`` (an
    Open Badges value such as ``"Certificate"``, ``"Course"``, ``"License"``, or ``"ext:…"``)
    and ``alignment`` (a list of ``alignment(…)``). ``level`` is the CEFR level attained in a
    language course: the achievement then describes the six levels (a ``ResultDescription``
    of ``RubricCriterionLevel``s aligned to CEFR) and the subject's ``result`` names the one
    attained. ``valid_until`` None: the certificate does not expire."""
    unknown = set(achievement) - _ACHIEVEMENT_FIELDS - _OPTIONAL_FIELDS
    missing = (_ACHIEVEMENT_FIELDS - {"alignment"}) - set(achievement)
    if unknown or missing:
        raise ValueError(f"achievement fields: unknown {sorted(unknown)}, "
                         f"missing {sorted(missing)}")
    kind = achievement["achievementType"]
    if kind not in ACHIEVEMENT_TYPES and not str(kind).startswith("ext:"):
        raise ValueError("achievementType is an Open Badges value or starts with ext:")
    if level is not None and level not in CEFR_LEVELS:
        raise ValueError("level is a CEFR level, A1 … C2")
    achievement_id = achievement["id"]
    described: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": kind,
        "name": achievement["name"],
        "description": achievement["description"],
        "criteria": {"narrative": achievement["criteria"]},
    }
    if achievement.get("alignment"):
        described["alignment"] = list(achievement["alignment"])
    if achievement.get("inLanguage"):
        if not IN_LANGUAGE.match(achievement["inLanguage"]):
            raise ValueError("inLanguage is a BCP 47 tag as Open Badges writes one (es-EC)")
        described["inLanguage"] = achievement["inLanguage"]
    maps = {key: achievement[key] for key in LANGUAGE_MAPS if achievement.get(key)}
    described.update({k: v for k, v in maps.items() if k != "narrativeInLanguages"})
    if "narrativeInLanguages" in maps:
        described["criteria"]["narrativeInLanguages"] = maps["narrativeInLanguages"]
    subject: dict[str, Any] = {"id": subject_id, "type": ["AchievementSubject"],
                               "achievement": described}
    if level is not None:
        scale = f"{achievement_id}#cefr"
        described["resultDescription"] = [{
            "id": scale, "type": ["ResultDescription"], "name": "CEFR level",
            "resultType": "RubricCriterionLevel",
            "rubricCriterionLevel": [
                {"id": f"{scale}-{each}", "type": ["RubricCriterionLevel"], "name": each,
                 "alignment": [alignment("CEFR", each, f"CEFR {each}")]}
                for each in CEFR_LEVELS]}]
        subject["result"] = [{"type": ["Result"], "resultDescription": scale,
                              "achievedLevel": f"{scale}-{level}", "value": level}]
    credential: dict[str, Any] = {
        "@context": [CONTEXT, OB3_CONTEXT,
                     {**JWT_ID_CONTEXT, **LANGUAGE_MAPS_CONTEXT} if maps else JWT_ID_CONTEXT],
        "id": f"urn:uuid:{credential_id}",
        "type": ["VerifiableCredential", CERTIFICATE_TYPE],
        "name": achievement["name"],
        "issuer": {"id": node_issuer(node), "type": ["Profile"], "name": issuer_name},
        "validFrom": _timestamp(valid_from),
        "credentialSubject": subject,
        "credentialStatus": _status_entry(status_list, status_index),
    }
    if valid_until is not None:
        credential["validUntil"] = _timestamp(valid_until)
    return credential


# ---------------------------------------------------------------- Bitstring Status List v1.0

def encode_status_list(revoked_indices: Iterable[int], size: int = STATUS_LIST_SIZE) -> str:
    """``encodedList``: the bitstring (index 0 the left-most bit, i.e. the most significant bit
    of the first byte), GZIP-compressed, base64url without padding, multibase prefix ``u``."""
    if size < STATUS_LIST_SIZE or size % 8:
        raise ValueError(f"a status list has at least {STATUS_LIST_SIZE} bits, whole bytes")
    bits = bytearray(size // 8)
    for index in revoked_indices:
        if not 0 <= index < size:
            raise ValueError("a status index is outside the list")
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def decode_status_list(encoded: str) -> bytes:
    """The bitstring of an ``encodedList``; ``ValueError`` when it is not a conforming one
    (no ``u`` prefix, not base64url, not GZIP, shorter than 16 KB or implausibly large)."""
    if not isinstance(encoded, str) or not encoded.startswith("u") \
            or not BASE64URL.match(encoded[1:]):
        raise ValueError("encodedList is multibase base64url (prefix u)")
    try:
        compressed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing only
        bits = inflater.decompress(compressed, _MAX_STATUS_LIST_BYTES)
    except (binascii.Error, zlib.error) as error:
        raise ValueError("encodedList is not GZIP in base64url") from error
    if inflater.unconsumed_tail or inflater.unused_data or not inflater.eof:
        raise ValueError("encodedList is truncated or too large")
    if len(bits) * 8 < STATUS_LIST_SIZE:
        raise ValueError(f"a status list has at least {STATUS_LIST_SIZE} bits")
    return bits


def is_set(bits: bytes, index: int) -> bool:
    """Bit ``index`` of a bitstring (index 0 the most significant bit of the first byte)."""
    if not 0 <= index < len(bits) * 8:
        raise IndexError("the status index is outside the status list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(*, node: str, list_url: str, revoked_indices: Iterable[int],
                           valid_from: dt.datetime,
                           valid_until: dt.datetime | None = None) -> dict[str, Any]:
    """A revocation ``BitstringStatusListCredential`` (unsigned): the bits of ``list_url``
    that are set are the revoked credentials. A short ``valid_until`` bounds how stale a
    copy a verifier may accept."""
    credential: dict[str, Any] = {
        "@context": [CONTEXT, JWT_ID_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", STATUS_LIST_TYPE],
        "issuer": node_issuer(node),
        "validFrom": _timestamp(valid_from),
        "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation",
                              "encodedList": encode_status_list(revoked_indices)},
    }
    if valid_until is not None:
        credential["validUntil"] = _timestamp(valid_until)
    return credential


# ---------------------------------------------------------------- reading a credential

def is_open_badge(credential: dict) -> bool:
    """An Open Badges 3.0 credential (its JWT header says ``typ: JWT``)."""
    return any(isinstance(kind, str) and kind in OPEN_BADGES_TYPES
               for kind in listed(credential.get("type")))


def listed(value: Any) -> list:
    """A JSON-LD term that may be one value or a list, as a list (anything else: empty)."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, str) else []


def issuer_of(claims: dict) -> str | None:
    """The issuer id of a credential's claims (a string, or an object with an ``id``)."""
    return _issuer_id(claims)


def date_of(value: Any) -> dt.datetime | None:
    """A VC date-time (``2026-11-28T10:00:00Z``) as an aware datetime, or None."""
    return _date(value)


def _issuer_id(claims: dict) -> str | None:
    issuer = claims.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    return issuer_id if isinstance(issuer_id, str) else None


def _date(value: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def id_of(value: Any) -> str | None:
    """A credential's ``id`` without its ``urn:uuid:`` prefix (None: it has none)."""
    return value.removeprefix("urn:uuid:") if isinstance(value, str) else None
