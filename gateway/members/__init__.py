"""Members: the registry of cooperatives and members, memberships, member groups and consent;
and ``Member``, her whole record as far as the caller may see it (``member.py``), with its
queries and the ``memberEvents`` subscription."""
