"""The records feature's mutations: ``exportRecord`` (``gateway.records.export``) and
``importRecord`` (``gateway.records.importing``), built here rather than generated from
their commands' contracts. (``revokeRecord`` is a generated mutation like any other.)
"""

from __future__ import annotations

import strawberry

from gateway.access import who_may_send
from gateway.records.export import export_record
from gateway.records.importing import import_record
from schemas import membership as m

#: Commands with a mutation of their own (``MUTATIONS``): the gateway builds them.
BUILT_HERE = (m.ExportRecord, m.ImportRecord)

#: The mutations this feature adds to the schema.
MUTATIONS = {
    "exportRecord": strawberry.mutation(
        export_record, description="Issue a member's portable record (VC 2.0, vc+jwt) to a "
        "recipient she consented to; every export is an event. " + who_may_send(m.ExportRecord)),
    "importRecord": strawberry.mutation(
        import_record, description="Verify a record from another node, record it for the "
        "same member id, and start her membership here. " + who_may_send(m.ImportRecord)),
}
