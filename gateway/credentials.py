"""Kept for ``deploy/operate.py`` only (the names it uses): credentials are made in
``gateway.records.credentials`` and checked in ``gateway.records.verification``; new code
imports those.
"""

from gateway.records.credentials import issuer_of
from gateway.records.verification import Verification, verify_credential, verify_status_list

__all__ = ["Verification", "issuer_of", "verify_credential", "verify_status_list"]
