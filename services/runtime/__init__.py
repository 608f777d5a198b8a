"""The event-sourcing runtime shared by every service (and the gateway's projections)."""
