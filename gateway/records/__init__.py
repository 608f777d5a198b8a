"""Records: the portable member record as a credential: export, verification, import, the
revocation status lists, and the printable record."""
