"""Alerts: one email digest per interval to the firm's integration admins when links
turn red (services.py). An app of its own, so its tables and schedule migrate apart from
the engine's."""
