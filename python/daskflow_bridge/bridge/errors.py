"""Errors of the bridge process's `start` request (their names reach the flow in the reply's ``error.name``)."""


class BridgeConfigError(ValueError):
    """Invalid `start` options (the message says which and why)."""
