"""The federation dashboard page (``/dashboard``): charts and tables of ``federationStats``,
filtered by country, cooperative and period, redrawn as ``federationActivity`` windows
arrive. Its files are ``gateway/static/dashboard.html`` and ``dashboard.js``; it reads
everything from ``/graphql`` with the caller's bearer token (``gateway.pages``).
"""

from __future__ import annotations

from starlette.routing import Route

from gateway.pages import page

ROUTES = [Route("/dashboard", page("dashboard.html"), methods=["GET", "HEAD"])]
