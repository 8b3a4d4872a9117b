"""The ``offer-analytics`` command line: one small module per command, on the public API only."""

from offer_analytics.cli._app import app, main

__all__ = ["app", "main"]
