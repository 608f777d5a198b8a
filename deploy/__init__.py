"""Running coopbridge: what a node runs (``node``, the composition root), the embedded Kafka
broker (``broker``), the node topics (``topics``), the ``coopbridge`` CLI (``cli``) and the
process supervisor of ``coopbridge up`` (``supervisor``, with the trust lists of ``peers``
and the consoles of ``console``), operating running nodes (``operate``), and the demo
federation (``demo``)."""
