"""Observability: /metrics (Prometheus) and /readyz."""

from gateway.observe import metrics, ready

__all__ = ["metrics", "ready"]
