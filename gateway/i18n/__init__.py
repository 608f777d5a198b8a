"""Her languages: which one a reader gets (``languages``)."""
