"""The gateway's part of the insurance service (issue 25): its documents and its fold."""
