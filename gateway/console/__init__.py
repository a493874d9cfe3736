"""The operators' web console (/console): overview, search, dossier timelines, dead letters,
destinations, reports, local operator accounts. Server-rendered; works with no internet access."""

from gateway.console import web

__all__ = ["web"]
