"""Content-based routing: which destinations a packet goes to, from configuration."""

from gateway.route.rules import Router, Rule, Unrouted

__all__ = ["Router", "Rule", "Unrouted"]
