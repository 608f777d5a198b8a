"""What the contracts' words mean, in a sentence each, said once: a field name means the same
in every command, event and record that has it (``member_id`` is always her global id),
``SPECIFIC`` says more where one contract's field needs it, and ``VALUES`` says what each
value of each enumeration means.

The generated JSON Schema files (``schemas.jsonschemas``) and the gateway's GraphQL schema
(``gateway.descriptions``) both read it, so a partner reads the same sentence in both. A
struct's own docstring describes the struct; a field's ``msgspec.Meta(description=…)`` wins
over these words where it is given.

The sentences speak of a field by its idea, not its spelling (GraphQL writes ``memberId``
where the contracts write ``member_id``), and say units and formats: money is a decimal
string in major units in GraphQL and integer minor units in the contracts; a day "that has
come" is a day on which something happened (``fields.PastDay``), while a plan's days (a
course's dates, a loan's first due date) may lie ahead.
"""

from __future__ import annotations

import re

from enum import Enum

from schemas import governance as g
from schemas import insurance as i
from schemas import placement as p
from schemas import membership as m
from schemas import savings as s
from schemas import training as t

#: How every amount of money is written.
MONEY = ("in GraphQL a decimal string in major units with its ISO 4217 currency code "
         "(\"125.50\" EUR), in the contracts integer minor units (12550)")
#: What a day on which something happened may be (``fields.PastDay``).
PAST = "a day that has come (never later than today in the earliest time zone, UTC+14)"
#: What the money fields of a remittance or a transfer home say about the currencies.
RATE = ("the exchange rate used, as a decimal string: units of the receiving currency for "
        "one unit of the sending one (\"1.0842\"); \"1\" within one currency")

#: field name (snake_case, as in the contracts) -> what it is, its units and format.
FIELDS: dict[str, str] = {
    # -- who and what: ids
    "member_id": "the member's global id: a UUID her first cooperative chose when registering "
                 "her; the same at every node she takes her record to",
    "cooperative_id": "the cooperative's id: the UUID it was registered with",
    "group_id": "the member group's id: a UUID its cooperative chose when creating it",
    "account_id": "the account's id: a UUID its cooperative chose when opening it",
    "remittance_id": "the remittance's id: a UUID the sending cooperative chose; no other "
                     "remittance or transfer home may leave the same account with it",
    "transfer_id": "the transfer's id: a UUID the sending cooperative chose; no other "
                   "remittance or transfer home may leave the same account with it",
    "course_id": "the course's id: a UUID the offering cooperative chose",
    "certificate_id": "the certificate's id: a UUID the issuing cooperative chose",
    "consent_id": "the consent's id: a UUID chosen when it was granted",
    "access_id": "the id of one of her accesses to her own record: a UUID the gateway chose "
                 "when her activation code was issued; her member token carries it",
    "code_digest": "the activation code's keyed digest (HMAC-SHA256 under a key of the node's, "
                   "base64url): the code itself never travels or is stored",
    "join": "whether the consent lets the cooperative it names admit her as a member (once); "
            "a consent to read her memberships does not",
    "granted_at": "when the consent was given (null: before this was recorded)",
    "used": "whether a membership was started under this consent to join (it serves once)",
    "credential_id": "the portable record's id: a UUID chosen when it was exported (the "
                     "credential's id is urn:uuid: followed by it)",
    # -- cooperatives and groups
    "name": "its name, as people know it (1 to 200 characters)",
    "country": "the cooperative's country: an ISO 3166-1 alpha-2 code (ES)",
    "languages": "the languages the cooperative works in: BCP 47 tags (es, qu), 1 to 20",
    "criteria": "what earning the course's certificate takes, in that language, as its "
                "certificates say it (empty: the hours and the assessment, in the record's "
                "words)",
    "names": "its name in each language it has one in, where it has several: BCP 47 tag -> "
             "name, up to 20 (empty: only name, in its first language)",
    "node": "the federation node the cooperative belongs to: a node id (es), lowercase "
            "letters and digits",
    "currency": "the currency: an ISO 4217 code (EUR)",
    "share_price": "the price of one share of the cooperative, in its currency: " + MONEY,
    # -- members and memberships
    "personal": "her personal details: given in the clear in GraphQL and sealed by the "
                "gateway with her data key (AES-256-GCM) before anything is sent; in the "
                "contracts always sealed",
    "given_names": "her given name(s), as she writes them (1 to 200 characters)",
    "family_names": "her family name(s), as she writes them (1 to 200 characters)",
    "date_of_birth": "her date of birth, " + PAST,
    "nationality": "her nationality: an ISO 3166-1 alpha-2 code (EC); the federation's "
                   "figures take it as her home country",
    "gender": "her gender, if she states it: female, male or other (absent: not stated)",
    "preferred_languages": "the languages she prefers to be addressed in: BCP 47 tags (es-EC), "
                           "1 to 20",
    "contact": "how to reach her (a phone number, an address), free text of at most 200 "
               "characters; optional",
    "residence": "the country she lives in now, if she says: an ISO 3166-1 alpha-2 code (EC); "
                 "where she counts in the assemblies' turnout by country of residence "
                 "(absent: her home country once she has returned home, else her "
                 "cooperative's)",
    "role": "her role in the cooperative: member, worker member or board member",
    "started_on": "the day the membership started, " + PAST,
    "ended_on": "the day the membership ended, " + PAST,
    "share_capital_required": "the share capital the cooperative requires of her for this "
                              "membership, in its currency: " + MONEY,
    "reason": "why, in a few words (1 to 200 characters)",
    # -- consent and portable records
    "grantee_kind": "whom it is shared with: a cooperative or a whole node",
    "grantee": "the cooperative's id (a UUID) or the node's id (ec) it is shared with, as the "
               "grantee kind says",
    "scopes": "the parts of her record it covers (1 to 7): identity, membership, savings, "
              "training, governance, insurance, work",
    "expires_at": "when the consent ends by itself: an ISO 8601 time with its offset, in the "
                  "future when granted",
    "valid_from": "when the record became valid: the moment it was exported",
    "valid_until": "until when the record is valid: never past the consent it was exported "
                   "under",
    "issuer_node": "the id of the node that issued the record (es)",
    "issued_at": "when the issuing node signed the record (the credential's validFrom)",
    "digest": "the SHA-256 of the record exactly as received (its compact JWS), base64url "
              "without padding",
    "history": "what the record says, without the person: memberships, balances, loans, "
               "remittances, certificates, assemblies and work",
    "cooperative_name": "the cooperative's name, as the record states it",
    "share_capital": "the share capital she held in that cooperative when the record was "
                     "issued (absent if none): " + MONEY,
    "disbursed_on": "the day the loan began, as the issuing node recorded it",
    "instalments": "how many monthly instalments the loan has",
    "repaid_early": "how many repayments came more than 10 days before their due date",
    "repaid_on_time": "how many repayments came on their due date or up to 10 days before",
    "repaid_late": "how many repayments came after their due date",
    "sent": "the amount she sent in this corridor and currency, fees not included: " + MONEY,
    "fees": "the fees she paid on them, in all: " + MONEY,
    # -- accounts and money
    "product": "the kind of account: savings, share capital or loan",
    "amount": "the amount of money it moves, in the account's currency: " + MONEY,
    "balance": "the account's balance right after this, in its currency: " + MONEY,
    "booked_on": "the day the cooperative booked it, which places it in a month of the "
                 "figures: " + PAST + ", at most 400 days back; absent: the day it is decided",
    "transfer_to": "the account that takes the whole balance as this one closes: another "
                   "open account of the same member and currency (its id); not needed when "
                   "the balance is zero",
    "transferred": "the whole balance moved to the account named to take it: " + MONEY,
    "shares": "a number of shares (1 to 1,000,000)",
    "total_shares": "the shares the account holds after this purchase",
    "required": "the share capital the member's membership requires of her: " + MONEY,
    # -- loans
    "principal": "the amount lent, in the account's currency: " + MONEY,
    "annual_rate": "the yearly interest rate as a fraction, a decimal string: \"0.12\" for "
                   "12 % (at most \"1\")",
    "term_months": "how many months the loan runs: one instalment a month (1 to 360)",
    "first_due_on": "the day the first instalment falls due, after today (a plan); the others "
                    "fall due on the same day of each following month",
    "schedule": "the instalments, first to last: equal monthly payments (an annuity), the "
                "last one taking up the rounding",
    "total_due": "all the instalments added up, principal and interest: " + MONEY,
    "number": "the instalment's number: 1 for the first",
    "due_on": "the day the instalment falls due",
    "interest": "the interest part of the instalment: " + MONEY,
    "total": "the whole instalment, principal plus interest: " + MONEY,
    "paid_on": "the day it was paid, " + PAST + "; it decides whether the repayment is early, "
               "on time or late",
    "instalment": "the number of the earliest instalment this repayment pays (1 for the "
                  "first)",
    "timing": "the repayment against its instalment's due date: early (more than 10 days "
              "before), on time, or late (after it)",
    "days_late": "how many days after its instalment's due date it was paid (0 if not late)",
    "settled": "the numbers of the instalments this repayment paid in full",
    "outstanding": "what is still owed on the loan, principal and interest: " + MONEY,
    "loan_closed": "this repayment paid the loan off",
    # -- remittances and transfers home
    "to": "where the money goes: an account at a cooperative of this node, or a payout to "
          "someone who is not a member (exactly one)",
    "fee": "the fee charged for sending it, in the sending account's currency: " + MONEY,
    "rate": RATE,
    "rate_date": "the date of the rate used: the newest rate on or before the day it was sent",
    "received": "what the other side is credited, in its own currency: converted at the rate "
                "and rounded half-even to that currency's minor unit; " + MONEY,
    "corridor": "where the money went: the sending country, a hyphen, the receiving country "
                "(ISO 3166-1 alpha-2: ES-EC is from Spain to Ecuador)",
    "to_node": "the node the savings go to: a trusted peer of this node (ec)",
    "to_account_id": "the member's account at the node the savings go to (its id there)",
    "to_currency": "the currency of that account: an ISO 4217 code (USD)",
    "from_node": "the node the money came from (es)",
    "from_account_id": "the id of the account the money left",
    "by_node": "the node whose signed answer this is: only the node the money went to "
               "settles a transfer",
    "full_name": "the full name of the person who collects the money (1 to 200 characters)",
    "phone": "a phone number to reach that person (at most 40 characters); optional",
    # -- courses
    "titles": "the course's title and description in one or more languages (1 to 20), one "
              "per language",
    "title": "the course's title (1 to 200 characters)",
    "description": "what the course covers, in that language (at most 2,000 characters; may "
                   "be empty)",
    "language_taught": "the language a language course teaches: a BCP 47 tag (es); only for "
                       "language courses",
    "target_level": "the CEFR level a language course leads to, A1 to C2; only for language "
                    "courses",
    "skills": "the skills the course covers: ESCO skill or occupation URIs and ISCO-08 "
              "occupation codes (up to 50); every kind of course but language names at least "
              "one",
    "uri": "an ESCO URI: http://data.europa.eu/esco/skill/<id> (or occupation/, isco/)",
    "hours": "the course's length in hours (1 to 5,000)",
    "starts_on": "the course's first day (a plan: it may lie ahead)",
    "ends_on": "the course's last day, not before its first (a plan: it may lie ahead)",
    "capacity": "how many learners the course takes at most (1 to 10,000)",
    "places_left": "how many places of the course are still free",
    "on": "the day attended, " + PAST + ", within the course's dates",
    "total_hours": "the hours the learner has attended in all, this day included",
    "hours_attended": "the hours the learner attended in all",
    "result": "passed or failed",
    "score": "the learner's final score, 0 to 100",
    "level_attained": "the CEFR level the learner attained, A1 to C2: named when a language "
                      "course is passed, never for other kinds",
    "completed_on": "the day the learner completed the course, " + PAST,
    "issued_on": "the day the certificate was issued, " + PAST,
    "course_started_on": "the course's first day, as it was offered",
    "language": "the language a language course taught: a BCP 47 tag (es); absent for other "
                "kinds",
    "level": "the CEFR level attained in a language course, A1 (beginner) to C2 (mastery); "
             "absent for other kinds",
    "revoked": "true once it has been revoked: it no longer counts",
    # -- seals (the plaintext shapes are PersonalDetails and PayoutRecipient)
    "kid": "the id of the data key that sealed it (never a person's id)",
    "iv": "the 12-byte AES-GCM nonce, base64",
    "ct": "the ciphertext with its 16-byte tag, base64",
    "alg": "the algorithm: always A256GCM",
    # -- replies and rejections (coop.runtime)
    "command_id": "the id of the command this is about (its envelope's id)",
    "command_type": "the command's wire type (coop.savings.DepositFunds.v2)",
    "aggregate_id": "the id of the aggregate the command was for: a member's, a "
                    "cooperative's, an account's or a course's id",
    "accepted": "true if it was accepted, false if refused",
    "error": "why the command was rejected (absent when accepted)",
    # -- governance (issue 24)
    "assembly_id": "the assembly's id: a UUID the convening cooperative chose",
    "motion_id": "the motion's id: a UUID the convening cooperative chose",
    "option_id": "an option's id within its motion (for, against, abstain in a resolution; "
                 "lowercase letters, digits, - and _ otherwise)",
    "holder_id": "the member id of the proxy holder: the member who votes for her",
    "general_notice_days": "the days of notice a general assembly needs, by the bylaws",
    "extraordinary_notice_days": "the days of notice an extraordinary assembly needs, by the "
                                 "bylaws",
    "notice_days": "the days of notice the bylaws required when it was convened",
    "max_proxies_per_holder": "how many members' proxies one member may hold (0: proxies "
                              "are not allowed)",
    "challenge_days": "the days a certified result may be challenged; its ballot key is "
                      "destroyed after them",
    "challenge_ends_at": "when the challenge period ends; the ballot key may be destroyed "
                         "from then on",
    "meeting_on": "the day of the meeting",
    "record_date": "the record date: the members whose membership was active at its end are "
                   "on the roll",
    "voting_opens_at": "when the voting window opens: an ISO 8601 time with its offset (it may "
                       "open days before the meeting, for members abroad)",
    "voting_closes_at": "when the voting window closes: an ISO 8601 time with its offset, no "
                        "later than the day after the meeting",
    "quorum_percent": "the quorum: the share of the roll (0 to 100 %) that must vote for any "
                      "motion to carry",
    "convened_on": "the day it was convened (UTC)",
    "convened_at": "when it was convened",
    "texts": "the motion's full text by language (BCP 47 tag -> up to 4,000 characters)",
    "labels": "the option's label by language (BCP 47 tag -> text)",
    "majority": "what carries the motion: a simple majority, two thirds, or unanimity of the "
                "ballots for and against (abstentions count towards the quorum only)",
    "max_choices": "how many options one ballot may choose",
    "seats": "how many are elected (an election), 1 otherwise",
    "options": "the motion's options, in the order the ballot shows them",
    "ballot": "her choice, sealed with the assembly's ballot key (AES-256-GCM) before it "
              "reached Kafka; noise once the key is destroyed",
    "receipt": "the ballot's receipt: the SHA-256 of its seal, in hex; she finds it in the "
               "published list of receipts",
    "set_aside": "the receipts of the ballots that stopped counting because of this",
    "channel": "how the ballot came: remote, by proxy, or in person",
    "closed_at": "when the voting was closed",
    "voters": "how many members on the roll have a counted ballot (on any motion)",
    "receipts_digest": "the SHA-256 of the sorted receipts of the counted ballots, one per "
                       "line, in hex",
    "tallies": "each motion's tally of its opened, counted ballots",
    "counts": "how many ballots chose each option (option id -> count)",
    "ballots": "how many ballots counted on this motion",
    "spoiled": "how many counted ballots did not open or named no valid option",
    "outcome": "what the motion came to",
    "elected": "the options elected or carried (an election's candidates, a choice's winner)",
    "certified_at": "when the result was certified",
    "roll_count": "how many members are on the roll",
    "roll_root": "the RFC 6962 Merkle root of the roll, in hex",
    "quorum_met": "whether enough of the roll voted",
    "results": "each motion's result",
    "destroyed_at": "when the ballot key was destroyed",
    # -- insurance (issue 25)
    "product_id": "the insurance product's id: a UUID the insurer chose when offering it",
    "policy_id": "the policy's id: a UUID chosen when she applied for it",
    "claim_id": "the claim's id: a UUID chosen when her death was notified",
    "cover_id": "her application's id at her host node: a UUID chosen when she applied (the "
                "policy has an id of its own)",
    "insurer_node": "the node of the insurance cooperative she applies to (its id, sv)",
    "application_id": "her application's id at her host node, which the insurer answers "
                      "(None: not applied for from another node)",
    "beneficiaries": "her beneficiaries' names, sealed with her data key: they stay at her "
                     "host node",
    "applied_at": "when she applied",
    "answered_at": "when the insurer's answer was recorded here",
    "notified_at": "when her death was notified to the insurer",
    "recorded_at": "when it was recorded",
    "terms": "the policy as the insurer issued it: its id, term, premium, grace and waiting "
             "periods, benefits",
    "repatriation_limit": "the most the policy pays for bringing her body home: " + MONEY,
    "monthly_benefit_cap": "the most the monthly benefit to her family may be: " + MONEY,
    "benefit_months": "for how many months the family receives the monthly benefit after her "
                      "death (1 to 120; 12 by default)",
    "premium": "what the policy costs each premium period: " + MONEY,
    "premium_months": "how many months one premium pays for (1 to 12; 1: monthly)",
    "waiting_days": "the days after the start during which a death is not covered (0 to 365)",
    "grace_days": "how many days after its due date a premium may still be paid before the "
                  "policy lapses (0 to 90)",
    "min_age": "the youngest age the product insures, in years at the start",
    "max_age": "the oldest age the product insures, in years at the start or renewal",
    "offered_at": "when the product was offered",
    "withdrawn_at": "when the product stopped taking new policies",
    "age": "her age in whole years at the policy's start (or renewal), from her date of birth "
           "at her cooperative",
    "average_remittance": "what she sent home a month on average over the last 12 months, as "
                          "her host node computed it, in the product's currency: " + MONEY,
    "requested_benefit": "the monthly benefit she asked for instead of her average remittance "
                         "(null: her average): " + MONEY,
    "monthly_benefit": "what her family receives each month after her death: her average "
                       "remittance or the benefit she named, at most the product's cap: " + MONEY,
    "payees": "who receives the monthly benefit: savings accounts and their shares (adding up "
              "to 100)",
    "share_percent": "this payee's share of each month's benefit, in per cent (1 to 100)",
    "period": "a premium period of the policy: 1 for the first, from its start",
    "premium_id": "the premium payment's id: a UUID its payer chose; no other money may leave "
                  "the account with it, and a premium refunded is paid again under a new one",
    "paid_at": "when her host savings account was debited for the premium",
    "paid_through": "the last day the premiums paid so far cover",
    "lapsed_on": "the first day the policy no longer stood: the day after the grace period",
    "died_on": "the day she died, as her cooperative recorded it: " + PAST,
    "notified_by": "the node that notified her death (her host node), or the insurer's own",
    "opened_at": "when the claim was opened",
    "sha256": "the SHA-256 digest of the document (lowercase hex); the document stays with "
              "the cooperative",
    "attached_at": "when the document was attached",
    "by": "who on the staff did it, as a digest the gateway makes of their token's subject: "
          "enough to tell two people apart, never a name",
    "repatriation_cost": "what bringing her home costs, as invoiced (zero if nobody claims "
                         "it): " + MONEY,
    "repatriation_account_id": "the account at this node the repatriation is paid into: the "
                               "funeral provider's or the family's",
    "repatriation": "what the claim pays for the repatriation, its cost at most the limit: "
                    + MONEY,
    "recommendation": "what the assessment recommends: approve or reject",
    "reasons": "why the claim is not paid (none: it is)",
    "assessed_at": "when the claim was assessed",
    "payments": "the payments the approval scheduled, in order",
    "payment": "the payment released",
    "approved_at": "when the claim was approved",
    "rejected_at": "when the claim was rejected",
    "released_at": "when the payment was released",
    "released_total": "what the claim has paid so far, this payment included: " + MONEY,
    "month": "the benefit month the payment is for, from 1 (0: the repatriation)",
    "credited_total": "what the claim's payees have been credited so far, this payment "
                      "included: " + MONEY,
    "cost": "what the premium cost the account, in its currency: the premium times the rate, "
            "rounded half-even; the fee comes on top: " + MONEY,
    # -- placement (issue 26)
    "job_order_id": "the job order's id: a UUID the cooperative chose when posting it",
    "employer_id": "the employer client's id: a UUID the cooperative chose when registering "
                   "them (an employer's token names it)",
    "details": "the employer's name, address and contact, sealed with the employer's own data "
               "key: erased with it when they ask",
    "occupation": "an ISCO-08 occupation: the 4-digit unit group of a job (5311: child care "
                  "workers), 1 to 4 digits for a wage floor's group",
    "locality": "where the job is: a town or district (never an address: that is in the "
                "employer's sealed details)",
    "shifts": "the hours of work, each from starts_at to ends_at (UTC, at most 16 hours), "
              "none overlapping",
    "starts_at": "when the shift starts (UTC)",
    "ends_at": "when the shift ends (UTC)",
    "wage": "the hourly wage, all of it the worker's: " + MONEY,
    "margin": "the cooperative's hourly margin, which the employer pays on top of the wage "
              "(disclosed to both; never taken from the worker): " + MONEY,
    "hourly": "the least hourly wage the cooperative places anyone at in this group: " + MONEY,
    "floor": "the cooperative's floor the wage was checked against: " + MONEY,
    "terms_sha256": "the SHA-256 of the written terms of employment (ILO C189, Art. 7), "
                    "lowercase hex: the document stays with the cooperative",
    "answer_hours": "how many hours an offer waits for the worker's answer (1 to 720; 72 by "
                    "default)",
    "for_node": "for a host cooperative's client: that cooperative's node (a home "
                "cooperative recruits for it)",
    "for_cooperative_id": "for a host cooperative's client: that cooperative's id",
    "posted_at": "when the job order was posted",
    "set_at": "when the floor was set",
    "registered_at": "when the employer was registered",
    "erased_at": "when the employer's details were erased",
    "declined_at": "when she declined",
    "accepted_at": "when she accepted (on her calendar)",
    "confirmed_at": "when the job order confirmed her placement",
    "settlement_id": "the settlement's id: a UUID chosen when the wages were settled",
    "worked_from": "the first day the settlement covers: " + PAST,
    "worked_to": "the last day the settlement covers: " + PAST,
    "minutes": "minutes of work (exact: hours times 60)",
    "employer_paid": "what the employer paid the cooperative for these minutes: exactly the "
                     "wage and the margin: " + MONEY,
    "hourly_wage": "the job order's hourly wage: " + MONEY,
    "settled_at": "when the wages were settled",
    "paid_total": "all the wages credited to her for this placement so far: " + MONEY,
    "redirected_at": "when her wages were redirected",
    "ended_at": "when the end was recorded",
    "stars": "her rating of the employer: 1 to 5 stars",
    "rated_at": "when she rated",
    "grievance": "what she complains of, sealed with her own data key: her cooperative's "
                 "admins open it, nobody else",
    "grievance_id": "the grievance's id: a UUID chosen when she filed it",
    "filed_at": "when she filed it",
    "text": "the text, as she wrote it",
}

#: (struct name, field name) -> what that field means in that struct, where it says more.
SPECIFIC: dict[tuple[str, str], str] = {
    ("ConveneAssembly", "kind"): "what kind of assembly it is",
    ("AssemblyConvened", "kind"): "what kind of assembly it is",
    ("AddMotion", "kind"): "what the motion asks: a resolution, a choice, or an election",
    ("MotionAdded", "kind"): "what the motion asks: a resolution, a choice, or an election",
    ("ConveneAssembly", "titles"): "the assembly's title by language (BCP 47 tag -> text)",
    ("AssemblyConvened", "titles"): "the assembly's title by language (BCP 47 tag -> text)",
    ("AddMotion", "titles"): "the motion's title by language (BCP 47 tag -> text)",
    ("MotionAdded", "titles"): "the motion's title by language (BCP 47 tag -> text)",
    ("RollFrozen", "members"): "the roll: the member ids on it, sorted (the Merkle tree's leaves)",
    ("RollFrozen", "count"): "how many members are on the roll",
    ("RollFrozen", "root"): "the RFC 6962 Merkle root of the roll, in hex",
    ("RollFrozen", "as_of"): "when the roll was frozen: members erased by then are not on it",
    ("RollFrozen", "ledger_at"): "the moment of the membership ledger the roll was read from: "
                                 "the end of the record date, or the convening if later",
    ("Option", "member_id"): "the member standing, in an election (her record shows the office "
                             "if she is elected)",
    ("CastProxyBallot", "member_id"): "the member who gave the proxy: the ballot is hers",
    ("BallotCast", "member_id"): "the member whose ballot it is (cast by her proxy holder when "
                                 "the channel is proxy)",
    ("IssueMemberAccess", "cooperative_id"): "the cooperative that issues it: one she is an "
                                             "active member of",
    ("MemberAccessIssued", "cooperative_id"): "the cooperative that issued it",
    ("IssueMemberAccess", "expires_at"): "when the code can no longer be redeemed: within 15 "
                                         "minutes (an ISO 8601 time with its offset)",
    ("MemberAccessIssued", "expires_at"): "when the code can no longer be redeemed",
    ("MemberAccessGranted", "granted_at"): "when she redeemed the code",
    ("RevokeMemberAccess", "access_id"): "the access to revoke; null: every access of hers",
    ("MemberAccessRevoked", "access_id"): "the access revoked; null: every access of hers",
    ("RecordConsentUse", "consent_ids"): "her consents the read was allowed under (1 to 20): "
                                         "each live and naming the reader",
    ("ConsentUsed", "consent_ids"): "her consents the read was allowed under",
    ("RecordConsentUse", "reader"): "the cooperative that read: its id (never a person's)",
    ("ConsentUsed", "reader"): "the cooperative that read: its id (never a person's)",
    ("RecordConsentUse", "scopes"): "the parts of her record the reader could see",
    ("ConsentUsed", "scopes"): "the parts of her record the reader could see",
    ("RecordConsentUse", "read"): "what was read: her record, her timeline, or her events as "
                                  "they happen",
    ("ConsentUsed", "read"): "what was read: her record, her timeline, or her events as they "
                             "happen",
    ("ConsentUsed", "used_at"): "when it was read (the service's time when it recorded the "
                                "read)",
    ("Money", "amount"): "a whole number of the currency's minor units (cents, centavos): "
                         "12550 EUR is 125.50 euros",
    ("Money", "currency"): "the amount's currency: an ISO 4217 code (EUR)",
    ("RegisterCooperative", "currency"): "the currency the cooperative keeps its accounts and "
                                         "prices its shares in: an ISO 4217 code (EUR)",
    ("CooperativeRegistered", "currency"): "the currency the cooperative keeps its accounts "
                                           "and prices its shares in: an ISO 4217 code (EUR)",
    ("OpenAccount", "currency"): "the account's currency: the cooperative's own (ISO 4217)",
    ("AccountOpened", "currency"): "the account's currency: the cooperative's own (ISO 4217)",
    ("Payout", "country"): "the country where the person collects the money: an ISO 3166-1 "
                           "alpha-2 code (EC)",
    ("Payout", "currency"): "the currency the person is paid in: an ISO 4217 code (USD)",
    ("Payout", "recipient"): "who collects the money: given in the clear in GraphQL and sealed "
                             "by the gateway with the sender's data key; in the contracts "
                             "always sealed",
    ("Beneficiary", "account_id"): "the savings account to credit, at a cooperative of this "
                                   "node (its id)",
    ("ImportedMembership", "ended_on"): "the day the membership ended; absent if it had not "
                                        "ended when the record was issued",
    ("ImportedMembership", "country"): "the country of that cooperative: an ISO 3166-1 "
                                       "alpha-2 code (ES)",
    ("ImportedAssembly", "cooperative_name"): "the name of the cooperative whose assembly it "
                                              "was",
    ("ImportedAssembly", "country"): "the country of that cooperative: an ISO 3166-1 alpha-2 "
                                     "code (ES); absent if the record did not say",
    ("ImportedAssembly", "meeting_on"): "the day of the assembly's meeting",
    ("ImportedAssembly", "voted"): "how she voted: remote (herself), proxy, in_person or no; "
                                   "absent if the voting was still open when the record was "
                                   "issued",
    ("ImportedAssembly", "offices"): "the offices she was elected to there (the elections' "
                                     "titles)",
    ("ImportedAssembly", "titles"): "the assembly's title in each language the record gave "
                                    "(BCP 47 tag -> text)",
    ("ImportedHistory", "assemblies"): "the assemblies abroad she was on the roll of, as the "
                                       "record states them (never her choice)",
    ("ImportedHistory", "work"): "the placements abroad she worked through cooperatives, as "
                                 "the record states them (ended ones only; never the employer, "
                                 "the wage or her rating)",
    ("ImportedWork", "occupation"): "the occupation she worked in: an ISCO-08 unit group, 4 "
                                    "digits (5152 domestic housekeepers); its label is ESCO's, "
                                    "in every EU language",
    ("ImportedWork", "cooperative_name"): "the name of the cooperative that placed her",
    ("ImportedWork", "country"): "the country where she worked: an ISO 3166-1 alpha-2 code "
                                 "(ES); absent if the record did not say",
    ("ImportedWork", "started_on"): "the day the placement started (its first shift)",
    ("ImportedWork", "ended_on"): "the day the placement ended, never before it started",
    ("ImportedWork", "minutes"): "the time she worked and was paid for, in whole minutes "
                                 "(exact; the record also says it in hours, for people)",
    ("ImportedWork", "how_ended"): "how the placement ended: completed (its last shift was "
                                   "worked), worker_left, employer_ended or cooperative_ended; "
                                   "absent if the record did not say",
    ("ImportedCertificate", "language"): "the language a language course taught, as the "
                                         "record states it: a BCP 47 tag (es); absent for "
                                         "other kinds, and when the record did not say",
    ("ImportedBalance", "product"): "the kind of account: savings or share_capital",
    ("ImportedBalance", "balance"): "its balance when the record was issued: " + MONEY,
    ("ImportedLoan", "principal"): "the amount lent: " + MONEY,
    ("ImportedLoan", "closed"): "the loan was repaid in full",
    ("ImportedCertificate", "kind"): "the kind of course: language, vocational, "
                                     "business_start_up, financial_literacy or governance",
    ("ImportedCertificate", "skills"): "the skills the course covered: ESCO URIs, or ISCO-08 "
                                       "codes written isco08:<code>",
    ("ImportedCertificate", "revoked"): "its issuer had revoked it when the record was issued",
    ("StartMembership", "role"): "her role in the cooperative: member, worker member or board "
                                 "member; absent: member",
    ("EndMembership", "reason"): "why the membership ends",
    ("MembershipEnded", "reason"): "why the membership ended",
    ("RegisterCooperative", "kind"): "what kind of cooperative it is",
    ("CooperativeRegistered", "kind"): "what kind of cooperative it is",
    ("CreateMemberGroup", "kind"): "what kind of group it is",
    ("MemberGroupCreated", "kind"): "what kind of group it is",
    ("OfferCourse", "kind"): "what kind of course it is",
    ("CourseOffered", "kind"): "what kind of course it is",
    ("CertificateIssued", "kind"): "what kind of course it certifies",
    ("CertificateIssued", "hours"): "the hours the learner attended",
    ("CertificateIssued", "cooperative_id"): "the issuing cooperative: the one that offered "
                                             "the course",
    ("RecordAttendance", "hours"): "the hours attended that day (1 to 5,000); all the days' "
                                   "hours together stay within the course's",
    ("AttendanceRecorded", "hours"): "the hours attended that day",
    ("Title", "language"): "the language of this title and description: a BCP 47 tag (es)",
    ("Title", "title"): "the course's title in that language (1 to 200 characters)",
    ("IscoOccupation", "code"): "an ISCO-08 occupation group: 1 to 4 digits, from major group "
                                "to unit group (5113: travel guides)",
    ("PurchaseShares", "shares"): "how many shares to buy, at the cooperative's share price "
                                  "(1 to 1,000,000)",
    ("SharesPurchased", "shares"): "how many shares were bought",
    ("SharesPurchased", "amount"): "what the shares cost: their number times the share price",
    ("SharesPurchased", "share_price"): "the price paid for each share",
    ("SharesRedeemed", "shares"): "how many shares were paid back: all the account held",
    ("SharesRedeemed", "amount"): "what was paid back for them",
    ("RecordRepayment", "amount"): "the amount repaid, in the loan's currency, at most what is "
                                   "still owed: " + MONEY,
    ("LoanRepaymentRecorded", "amount"): "the amount repaid: " + MONEY,
    ("SendRemittance", "amount"): "the amount to send, in the account's currency; the fee "
                                  "comes on top: " + MONEY,
    ("RemittanceSent", "amount"): "the amount sent, in the account's currency; the fee came "
                                  "on top: " + MONEY,
    ("RemittanceSent", "fee"): "the fee, charged on top of the amount: " + MONEY,
    ("RemittanceSent", "received"): "what the beneficiary is credited: the amount converted "
                                    "at the rate, rounded half-even; " + MONEY,
    ("RemittanceRefunded", "amount"): "what came back: the whole debit, amount and fee",
    ("TransferSavingsHome", "amount"): "the amount that leaves this account, fee included, in "
                                       "its currency: " + MONEY,
    ("SavingsSentHome", "amount"): "the amount that left the account, fee included: " + MONEY,
    ("SavingsSentHome", "fee"): "the fee, taken out of the amount: " + MONEY,
    ("SavingsSentHome", "received"): "what the home account is credited: (amount - fee) x "
                                     "rate, rounded half-even; " + MONEY,
    ("SavingsTransferRefunded", "amount"): "what came back: the whole amount, fee included",
    ("SavingsTransferSent", "amount"): "what to credit, in the home account's currency (rate "
                                       "and fee applied): " + MONEY,
    ("SavingsTransferSent", "to"): "the node the message is for",
    ("SavingsTransferAnswered", "to"): "the node the message is for",
    ("SavingsTransferAnswered", "code"): "why the home node refused it (absent when accepted)",
    ("PremiumSent", "to"): "the node the message is for: the insurer's",
    ("PolicyApplication", "to"): "the node the message is for: the insurer's",
    ("ClaimNotice", "to"): "the node the message is for: the insurer's",
    ("PolicyApplicationAnswered", "to"): "the node the message is for: her host node",
    ("ClaimNoticeAnswered", "to"): "the node the message is for: her host node",
    ("PolicyApplicationAnswered", "code"): "why the insurer's node refused her (absent when "
                                           "issued)",
    ("PolicyApplicationAnswered", "accepted"): "the insurer issued the policy (true, with its "
                                               "terms) or refused it (false)",
    ("ClaimNoticeAnswered", "code"): "why no claim was opened, or that one was open already",
    ("ClaimNoticeAnswered", "accepted"): "a claim for her death is open at the insurer",
    ("PremiumAnswered", "to"): "the node the message is for: the one whose account paid",
    ("PremiumAnswered", "code"): "why the insurer's node refused it (absent when collected)",
    ("PremiumAnswered", "accepted"): "the insurer's node collected it (true) or refused it "
                                     "(false: refunded whole at the host)",
    ("PremiumSent", "from_account_id"): "the savings account at the host node that paid it",
    ("PremiumAnswered", "from_account_id"): "the savings account at the host node that paid "
                                            "it",
    ("PremiumSent", "transfer_id"): "the premium's id: one per payment (a premium refunded "
                                    "and paid again is a new one)",
    ("PremiumAnswered", "transfer_id"): "the premium's id: one per payment",
    ("CollectPremium", "transfer_id"): "the premium's id at the host: one per payment",
    ("PremiumCollected", "transfer_id"): "the premium's id at the host: one per payment",
    ("AccountClosed", "transfer_id"): "the id of the transfer that moved the balance out "
                                      "(absent when the balance was zero)",
    ("AccountClosed", "transfer_to"): "the account that took the whole balance (absent when "
                                      "the balance was zero)",
    ("RecordExported", "consent_id"): "the consent it was exported under",
    ("StartMembership", "consent_id"): "her consent to join that the cooperative admits her "
                                       "under, when it is not one she chose herself (the "
                                       "gateway finds it when it is not given); null: a "
                                       "cooperative she chose",
    ("MembershipStarted", "consent_id"): "the consent to join it was started under; null: a "
                                         "cooperative she chose herself, which sees and acts "
                                         "for her as her own",
    ("RegisterMember", "cooperative_id"): "the cooperative that registers her (default: the "
                                          "caller's); her first membership here is its to "
                                          "start, or another's under her consent to join",
    ("MemberRegistered", "cooperative_id"): "the cooperative that registered her (null: the "
                                            "node's operator, or before this was recorded)",
    ("RecordExported", "valid_until"): "until when the record is valid: what was asked, cut "
                                       "to the consent's expiry",
    ("ImportRecord", "personal"): "the identity the record carried, sealed here with her data "
                                  "key; absent when it carried none",
    ("RecordImported", "personal"): "the identity the record carried, sealed here with her "
                                    "data key; absent when it carried none",
    ("Error", "code"): "a stable PascalCase code to switch on (AlreadyAMember)",
    ("CommandRejected", "error"): "why the command was rejected",
    ("ImportedHistory", "memberships"): "her memberships abroad, as the record states them",
    ("ImportedHistory", "balances"): "her account balances abroad when the record was issued",
    ("ImportedHistory", "loans"): "her loans abroad and how she repaid them: the credit "
                                  "history a home cooperative can use",
    ("ImportedHistory", "remittances"): "what she sent home, by corridor and currency",
    ("ImportedHistory", "certificates"): "her certificates, as the record states them",
    ("ImportedRemittances", "count"): "how many remittances she sent in this corridor and "
                                      "currency",
    ("CommandReply", "events"): "the events the command led to (one when it is accepted)",
    ("SavingsTransferAnswered", "accepted"): "the home node credited it (true) or refused it "
                                             "(false)",
    ("EventRef", "id"): "the event's id (its envelope's id)",
    ("EventRef", "type"): "the event's wire type, coop.<service>.<Name>.v<N> "
                          "(coop.savings.FundsDeposited.v2)",
    ("EventRef", "sequence"): "the event's position in its aggregate's stream: 1, 2, 3 … (in "
                              "GraphQL null for governance's events: an assembly's stream "
                              "holds its ballots, and two positions would count them)",
    ("Error", "message"): "what went wrong, in one sentence for people (never personal data)",
    ("Instalment", "principal"): "the part of the instalment that pays back the amount lent: "
                                 + MONEY,
    ("PayoutRecipient", "full_name"): "the full name of the person who collects the money",
    ("Beneficiary", "type"): "which destination this is: account",
    ("Payout", "type"): "which destination this is: payout",
    ("EscoSkill", "scheme"): "which classification this skill is coded in: esco",
    ("IscoOccupation", "scheme"): "which classification this skill is coded in: isco08",
    # -- insurance (issue 25)
    ("ReceiveBenefit", "number"): "the payment's number in the claim's schedule",
    ("RecordPolicyAnswer", "code"): "the insurer's rejection code when it refused her",
    ("CoverRefused", "code"): "the insurer's rejection code: why it refused her",
    ("RecordDeathAnswer", "code"): "the insurer's rejection code when it opened no claim",
    ("DeathNoticeAnswered", "code"): "the insurer's rejection code when it opened no claim",
    ("BenefitReceived", "number"): "the payment's number in the claim's schedule",
    ("PremiumPaid", "premium"): "what the insurer is to collect, in the product's currency",
    ("PayPremium", "premium"): "the policy's premium, in the product's currency: what the "
                               "insurer is to collect",
    ("PremiumRefunded", "amount"): "what came back: the premium's cost and the fee, whole",
    ("OfferProduct", "cooperative_id"): "the insurance cooperative that offers the product",
    ("ProductOffered", "cooperative_id"): "the insurance cooperative that offers the product",
    ("PolicyIssued", "cooperative_id"): "the insurance cooperative that insures her",
    ("OfferProduct", "names"): "the product's name in each language it has one in (BCP 47 tag "
                               "-> name)",
    ("ProductOffered", "names"): "the product's name in each language it has one in",
    ("OfferProduct", "currency"): "the currency of the premium and every benefit (ISO 4217)",
    ("ProductOffered", "currency"): "the currency of the premium and every benefit (ISO 4217)",
    ("OfferProduct", "term_months"): "how many months a policy runs before it is renewed "
                                     "(1 to 120): a whole number of premium periods",
    ("ProductOffered", "term_months"): "how many months a policy runs before it is renewed",
    ("PolicyIssued", "term_months"): "how many months the policy runs before it is renewed",
    ("PolicyRenewed", "term_months"): "the months the renewal adds to the policy",
    ("OfferProduct", "exclusions"): "what the product does not cover, each a text by language "
                                    "(BCP 47 tag -> text)",
    ("ProductOffered", "exclusions"): "what the product does not cover, each a text by language",
    ("AssessClaim", "exclusions"): "the product's exclusions that apply to this death, by their "
                                   "index in its list (from 0); any one rejects the claim",
    ("ClaimAssessed", "exclusions"): "the product's exclusions the assessor found to apply, "
                                     "by index (from 0)",
    ("IssuePolicy", "starts_on"): "the first day the policy covers her (a plan: it may lie "
                                  "up to 92 days ahead, or 7 back)",
    ("ApplyForPolicy", "currency"): "the product's currency (its premium's and benefits'), "
                                    "as the insurer's catalogue says (ISO 4217)",
    ("CoverApplied", "currency"): "the product's currency: her average remittance is what her "
                                  "family received in it",
    ("PolicyApplication", "currency"): "the product's currency, as she applied",
    ("ApplyForPolicy", "starts_on"): "the first day the policy is to cover her: today or up "
                                     "to 92 days ahead",
    ("CoverApplied", "starts_on"): "the first day the policy is to cover her",
    ("PolicyTerms", "starts_on"): "the first day the policy covers her",
    ("PolicyTerms", "ends_on"): "the first day it no longer covers her (renewed before, it "
                                "goes on)",
    ("PolicyApplication", "starts_on"): "the first day the policy is to cover her",
    ("NamedBeneficiary", "full_name"): "the beneficiary's full name, as she writes it (1 to "
                                       "200 characters)",
    ("NamedBeneficiary", "relationship"): "who they are to her, in her words (mother, son); "
                                          "null: not said",
    ("NamedBeneficiary", "account_id"): "the payee account at the insurer's node that is "
                                        "theirs, if one is (null: none)",
    ("Beneficiaries", "people"): "the people her benefit is for (1 to 10)",
    ("PolicyIssued", "starts_on"): "the first day the policy covers her",
    ("PolicyIssued", "ends_on"): "the first day the policy no longer covers her, unless renewed",
    ("PolicyRenewed", "ends_on"): "the first day the renewed policy no longer covers her",
    ("PolicyIssued", "issued_at"): "when the insurer issued the policy",
    ("IssuePolicy", "from_node"): "the node of her host cooperative, which applied for her and "
                                  "pays her premiums (us)",
    ("PolicyIssued", "from_node"): "the node of her host cooperative, which pays her premiums",
    ("RecordPolicyAnswer", "from_node"): "the node that answered: her insurer's, as the relay "
                                         "verified its signature",
    ("RecordDeathAnswer", "from_node"): "the node that answered: her insurer's, as the relay "
                                        "verified its signature",
    ("OpenClaim", "relayed"): "notified by the relay (from her host node), not by the "
                              "insurer's own staff",
    ("RecordPremiumPaid", "premium_id"): "the payment that paid it (null: found paid by "
                                         "another)",
    ("CoverPremiumPaid", "premium_id"): "the payment that paid it (null: found paid by "
                                        "another)",
    ("CollectPremium", "from_node"): "the node whose savings account paid the premium",
    ("PremiumCollected", "from_node"): "the node whose savings account paid the premium",
    ("PremiumCollected", "due_on"): "the day the period's premium fell due: its first day",
    ("PolicyLapsed", "due_on"): "the day the unpaid premium fell due",
    ("Payment", "number"): "the payment's number in the claim's schedule: 1 for the first",
    ("Payment", "due_on"): "the first day the payment may be released",
    ("Payment", "kind"): "what the payment is for: the repatriation, or a month of the benefit",
    ("Payment", "account_id"): "the savings account at the insurer's node it is paid into",
    ("Payment", "amount"): "how much is paid",
    ("ReleasePayment", "number"): "the payment's number in the claim's schedule",
    ("ConfirmPayment", "number"): "the payment's number in the claim's schedule",
    ("PaymentCredited", "number"): "the payment's number in the claim's schedule",
    ("ReturnPayment", "number"): "the payment's number in the claim's schedule",
    ("RedirectPayment", "number"): "the number of the returned payment to pay again",
    ("PaymentRedirected", "number"): "the number of the returned payment paid again",
    ("PaymentRedirected", "payment"): "the new payment: a new number, due at once, to the "
                                      "account named",
    ("RedirectPayment", "account_id"): "the savings account at this node to pay it into",
    ("WithdrawClaim", "reason"): "why the claim was opened by mistake",
    ("ClaimWithdrawn", "withdrawn_at"): "when the claim was withdrawn",
    ("ClaimWithdrawn", "reason"): "why the claim was opened by mistake",
    ("PaymentReturned", "released_total"): "what the claim has paid out so far, net of this "
                                           "returned payment",
    ("PaymentReturned", "number"): "the payment's number in the claim's schedule",
    ("PaymentCredited", "account_id"): "the savings account the payment was credited to",
    ("PaymentReturned", "account_id"): "the savings account that refused the payment",
    ("PaymentCredited", "amount"): "how much was credited",
    ("PaymentReturned", "amount"): "how much came back to the insurer",
    ("ReturnPayment", "reason"): "why the account refused it (its rejection code)",
    ("PaymentReturned", "reason"): "why the account refused it (its rejection code)",
    ("AttachEvidence", "kind"): "what the document is (a death certificate …)",
    ("EvidenceAttached", "kind"): "what the document is (a death certificate …)",
    ("Payee", "account_id"): "an open savings account at the insurer's node the benefit is "
                             "paid into",
    ("ClaimApproved", "total"): "what the claim pays in all: the repatriation and every month's "
                                "benefit",
    # -- placement (issue 26)
    ("EmployerDetails", "name"): "the employer's name (a person or a household)",
    ("EmployerDetails", "address"): "where the work is done: the employer's address",
    ("EmployerDetails", "phone"): "the employer's phone number",
    ("EmployerDetails", "email"): "the employer's email address",
    ("JobOffered", "offered_at"): "when the job was offered to her",
    ("BookingReleased", "code"): "why the job order could not confirm it (its rejection code)",
    ("ReleaseBooking", "code"): "why the job order could not confirm it (its rejection code)",
    ("ConfirmPlacement", "accepted_at"): "when she accepted, on her calendar: judged against "
                                         "the offer's time to answer",
    ("OfferAccepted", "shifts"): "the job's shifts, booked on her calendar",
    ("JobOrderPosted", "minutes"): "the minutes of all its shifts",
    ("PlacementEnded", "minutes"): "the minutes settled over the whole placement",
    ("SettleWages", "minutes"): "the minutes she worked in those days (overtime included)",
    ("WagesSettled", "minutes"): "the minutes she worked in those days",
    ("WagesSettled", "wage"): "the whole wage for the minutes, rounded up to the minor unit "
                              "in her favour: all of it credited to her: " + MONEY,
    ("WagesSettled", "margin"): "the cooperative's margin for the minutes, rounded down: "
                                + MONEY,
    ("WagesSettled", "worked_from"): "the first day the settlement covers",
    ("WagesSettled", "worked_to"): "the last day the settlement covers",
    ("WagePaid", "amount"): "the wage credited, whole: " + MONEY,
    ("WagePaymentReturned", "amount"): "the wage her account refused, held for her: " + MONEY,
    ("ReceiveWage", "amount"): "the settlement's whole wage: " + MONEY,
    ("WageReceived", "amount"): "the settlement's whole wage: " + MONEY,
    ("Grievance", "text"): "what she complains of, as she wrote it",
    ("RegisterEmployer", "details"): "the employer's details (EmployerDetails), sealed with "
                                     "the employer's own data key",
    ("EmployerRegistered", "details"): "the employer's details (EmployerDetails), sealed with "
                                       "the employer's own data key",
    ("FileGrievance", "grievance"): "what she complains of (Grievance), sealed with her data "
                                    "key: her cooperative's admins open it",
    ("GrievanceFiled", "grievance"): "what she complains of (Grievance), sealed with her data "
                                     "key: her cooperative's admins open it",
}

#: enumeration -> each of its values -> what it means. Keyed by enumeration first: values
#: of two enumerations with the same text (Product.SAVINGS, ConsentScope.SAVINGS) are equal
#: StrEnum members, so one dict of all values would keep only one of them.
VALUES: dict[type[Enum], dict[Enum, str]] = {
    m.ReadKind: {
        m.ReadKind.RECORD: "her record (the member query, or a page of a cooperative's members)",
        m.ReadKind.TIMELINE: "her timeline",
        m.ReadKind.EVENTS: "her events as they happen (a subscription: once, when it opens)",
    },
    m.CooperativeKind: {
        m.CooperativeKind.SAVINGS_AND_CREDIT: "a savings and credit cooperative (SACCO, credit "
                                              "union): members' savings fund members' loans",
        m.CooperativeKind.WORKER: "a worker cooperative: its members are both its workers and "
                                  "its owners",
        m.CooperativeKind.MULTI_PURPOSE: "a cooperative with several activities (savings, "
                                         "supplies, marketing …)",
        m.CooperativeKind.INSURANCE: "a cooperative or mutual insurer, owned by the people it "
                                     "insures",
        m.CooperativeKind.SERVICES: "a cooperative that provides a service to its members "
                                    "(housing, care, transport …)",
        m.CooperativeKind.CONSUMER: "a consumer cooperative, owned by the people who buy from it",
        m.CooperativeKind.PRODUCER: "a producer cooperative: farmers, artisans or other "
                                    "producers who process and sell together",
        m.CooperativeKind.TRAINING: "a training cooperative: it runs courses",
    },
    m.GroupKind: {
        m.GroupKind.SOLIDARITY_GROUP: "a solidarity group: members who guarantee each other's "
                                      "loans",
        m.GroupKind.SOCIETY: "a society: members grouped inside the cooperative by place or "
                             "activity",
        m.GroupKind.WORK_TEAM: "a work team: members working one site together",
    },
    m.MembershipRole: {
        m.MembershipRole.MEMBER: "a member: one member, one vote, whatever her share capital",
        m.MembershipRole.WORKER_MEMBER: "a worker-member: she works in the cooperative and owns "
                                        "part of it",
        m.MembershipRole.BOARD_MEMBER: "a member of the board (her record lists it as governance "
                                       "participation)",
    },
    m.EndReason: {
        m.EndReason.RETURNED_HOME: "she returned to her home country (the figures count it as a "
                                   "return home)",
        m.EndReason.MOVED: "she moved away",
        m.EndReason.RESIGNED: "she left the cooperative",
        m.EndReason.DECEASED: "she died",
        m.EndReason.EXPELLED: "the cooperative expelled her",
    },
    m.ConsentScope: {
        m.ConsentScope.IDENTITY: "her personal details: names, date of birth, nationality, "
                                 "gender, languages, contact, country of residence",
        m.ConsentScope.MEMBERSHIP: "her memberships, groups, imported records and timeline",
        m.ConsentScope.SAVINGS: "her accounts: savings, share capital, loans and repayments, "
                                "remittances and transfers",
        m.ConsentScope.TRAINING: "her enrolments and certificates",
        m.ConsentScope.GOVERNANCE: "the assemblies she could vote in, whether she voted, and "
                                   "the offices she was elected to (never her choices)",
        m.ConsentScope.INSURANCE: "her insurance: to an insurer's node, her application and "
                                  "the notice of her death; in her record, her policies and "
                                  "claims",
        m.ConsentScope.WORK: "the work she did through cooperatives: the job orders offered "
                             "to her and her placements; in her record, each placement that "
                             "ended (occupation, cooperative, country, period, hours and how "
                             "it ended; never the employer, the wage or her rating)",
    },
    m.GranteeKind: {
        m.GranteeKind.COOPERATIVE: "one cooperative, named by its id (a UUID)",
        m.GranteeKind.NODE: "a whole federation node, named by its id (ec): any of its "
                            "cooperatives may import a record shared with it",
    },
    m.Gender: {
        m.Gender.FEMALE: "female",
        m.Gender.MALE: "male",
        m.Gender.OTHER: "another gender",
    },
    s.Product: {
        s.Product.SAVINGS: "a savings account: deposits, withdrawals, remittances and transfers "
                           "home",
        s.Product.SHARE_CAPITAL: "her share capital: shares bought at the cooperative's share "
                                 "price, paid back once her membership ends",
        s.Product.LOAN: "one loan: disbursed once, repaid in monthly instalments",
    },
    s.Timing: {
        s.Timing.EARLY: "paid more than 10 days before the due date",
        s.Timing.ON_TIME: "paid on the due date or up to 10 days before it",
        s.Timing.LATE: "paid after the due date",
    },
    t.CourseKind: {
        t.CourseKind.LANGUAGE: "a language course: it names the language taught and a CEFR "
                               "target level",
        t.CourseKind.VOCATIONAL: "a trade or occupation, its skills coded with ESCO or ISCO-08",
        t.CourseKind.BUSINESS_START_UP: "starting and running a business or a cooperative",
        t.CourseKind.FINANCIAL_LITERACY: "managing money: saving, credit, remittances",
        t.CourseKind.GOVERNANCE: "taking part in running a cooperative",
    },
    t.Cefr: {
        t.Cefr.A1: "CEFR A1: beginner (breakthrough)",
        t.Cefr.A2: "CEFR A2: elementary (waystage)",
        t.Cefr.B1: "CEFR B1: intermediate (threshold)",
        t.Cefr.B2: "CEFR B2: upper intermediate (vantage)",
        t.Cefr.C1: "CEFR C1: advanced (effective operational proficiency)",
        t.Cefr.C2: "CEFR C2: mastery (proficiency)",
    },
    t.Result: {
        t.Result.PASSED: "the learner passed: a certificate may be issued",
        t.Result.FAILED: "the learner did not pass: no certificate",
    },
    g.AssemblyKind: {
        g.AssemblyKind.GENERAL: "a general assembly: the yearly one the bylaws call",
        g.AssemblyKind.EXTRAORDINARY: "an extraordinary assembly, called for a matter that "
                                      "cannot wait",
    },
    g.MotionKind: {
        g.MotionKind.RESOLUTION: "a resolution: for, against or abstain",
        g.MotionKind.CHOICE: "a choice among several options",
        g.MotionKind.ELECTION: "an election of officers to a number of seats",
    },
    g.Majority: {
        g.Majority.SIMPLE: "more ballots for than against",
        g.Majority.TWO_THIRDS: "at least two thirds of the ballots for and against",
        g.Majority.UNANIMITY: "no ballot against (and at least one for)",
    },
    g.Channel: {
        g.Channel.REMOTE: "she cast it herself, with her member token, from wherever she was",
        g.Channel.PROXY: "the member holding her proxy cast it for her",
        g.Channel.IN_PERSON: "her paper ballot at the meeting",
    },
    g.Outcome: {
        g.Outcome.CARRIED: "the motion carried (a choice: its winner is named)",
        g.Outcome.DEFEATED: "the motion did not reach its majority",
        g.Outcome.NO_QUORUM: "too few of the roll voted: nothing carried",
        g.Outcome.TIED: "a tie decided nothing (an election: the seats above the tie are filled)",
        g.Outcome.ELECTED: "the candidates named were elected",
    },
    i.EvidenceKind: {
        i.EvidenceKind.DEATH_CERTIFICATE: "the death certificate (a claim needs one)",
        i.EvidenceKind.TRANSPORT_PERMIT: "the permit to carry the body across the border",
        i.EvidenceKind.REPATRIATION_INVOICE: "the funeral provider's invoice for bringing her "
                                             "home",
        i.EvidenceKind.IDENTITY_DOCUMENT: "an identity document of hers or of a payee",
        i.EvidenceKind.POLICE_REPORT: "a police or coroner's report",
        i.EvidenceKind.OTHER: "another document",
    },
    i.Recommendation: {
        i.Recommendation.APPROVE: "pay the claim: every check passed",
        i.Recommendation.REJECT: "do not pay it: the reasons say why",
    },
    i.ClaimReason: {
        i.ClaimReason.WAITING_PERIOD: "she died within the waiting period after the start",
        i.ClaimReason.NOT_COVERED: "she died before the policy started or after its term",
        i.ClaimReason.LAPSED: "a premium was unpaid past its grace period when she died",
        i.ClaimReason.EXCLUSION: "one of the product's exclusions applies",
        i.ClaimReason.NO_EVIDENCE: "no death certificate is attached",
        i.ClaimReason.OTHER: "another reason, which the insurer tells the family",
    },
    i.PaymentKind: {
        i.PaymentKind.REPATRIATION: "the cost of bringing her home, to the provider or the "
                                    "family",
        i.PaymentKind.MONTHLY_BENEFIT: "one month of the benefit to one payee",
    },
    p.DeclineReason: {
        p.DeclineReason.NOT_AVAILABLE: "she is not free at those hours",
        p.DeclineReason.WAGE: "the wage",
        p.DeclineReason.PLACE: "where the job is",
        p.DeclineReason.HOURS: "the hours",
        p.DeclineReason.TERMS: "the written terms",
        p.DeclineReason.OTHER: "another reason",
        p.DeclineReason.UNSAID: "she did not say (she need not)",
    },
    p.PlacementEndReason: {
        p.PlacementEndReason.COMPLETED: "its last shift was worked",
        p.PlacementEndReason.WORKER_LEFT: "she left it",
        p.PlacementEndReason.EMPLOYER_ENDED: "the employer ended it",
        p.PlacementEndReason.COOPERATIVE_ENDED: "the cooperative ended it (after a grievance, "
                                                "say)",
    },
}


def meaning(owner: str, field: str) -> str | None:
    """What ``field`` of the struct named ``owner`` means, or None if the glossary is silent
    (an earlier version, ``CooperativeRegisteredV1``, means what its newest says)."""
    return (SPECIFIC.get((owner, field)) or SPECIFIC.get((re.sub(r"V\d+$", "", owner), field))
            or FIELDS.get(field))


def value_meaning(value: Enum) -> str | None:
    """What one value of a contract's enumeration means, or None if the glossary is silent."""
    return VALUES.get(type(value), {}).get(value)
