"""Members: the registry of cooperatives and members, memberships, member groups and consent,
and the ``Member`` type that shows her whole record as far as the caller may see it."""
