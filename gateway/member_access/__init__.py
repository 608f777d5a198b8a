"""Her own door (issue 23): activation codes, member tokens and their revocation."""
