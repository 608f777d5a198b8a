"""Figures: the federation's figures under the disclosure-control rule, the live activity
feed, and the dashboard page."""
