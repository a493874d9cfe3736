"""Content-based routing: which destinations a packet goes to, from configuration."""

from gateway.route.rules import Router, RouteRule, Unrouted

__all__ = ["Router", "RouteRule", "Unrouted"]
