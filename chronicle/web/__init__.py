"""The HTTP face: rendered documents from memory, /healthz and /metrics."""

from chronicle.web.app import app_from_environment, create_app

__all__ = ["app_from_environment", "create_app"]
