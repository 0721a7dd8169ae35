"""TLS for the bridge: the `start` request's ``security`` map as Dask's own ``distributed.security.Security``.

One certificate and key serve every role the bridge plays (the client, and for a temporary cluster also its
scheduler and workers). Sidecars of a TLS worker reach the scheduler with that worker's own credentials, handed
to them as Dask configuration in their environment (worker/credentials.py), so a task that submits tasks (a nested
runner, ``getDaskClient()`` in a task) connects as its worker does, on whatever host it runs.
"""

from __future__ import annotations

import os
from typing import Any

from distributed.security import Security

from .errors import BridgeConfigError

ROLES = ("client", "scheduler", "worker")
FIELDS = ("ca_file", "cert_file", "key_file", "require_encryption")
# The DaskTaskRunner option's own names, for messages the user reads.
OPTION_NAMES = {"ca_file": "caFile", "cert_file": "certFile", "key_file": "keyFile", "require_encryption": "requireEncryption"}


def _file(spec: dict[str, Any], field: str, required: bool) -> str | None:
    path = spec.get(field)
    if path is None and not required:
        return None
    if not isinstance(path, str) or not path:
        raise BridgeConfigError(f"security.{OPTION_NAMES[field]} must be the path of a PEM file, got {path!r}")
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise BridgeConfigError(
            f"security.{OPTION_NAMES[field]} {path!r} is not a readable file on the flow's machine ({os.getcwd()!r} is the "
            "working directory). Give the path of the PEM file."
        )
    return path


def make_security(spec: Any, roles: tuple[str, ...] = ("client",)) -> Security | None:
    """A ``Security`` with the CA and the one cert/key for each of ``roles``; ``None`` when no spec is given."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise BridgeConfigError(f"security must be a map {{ca_file, cert_file, key_file, require_encryption}}, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(FIELDS))
    if unknown:
        raise BridgeConfigError(f"security has unknown fields {unknown}; known: {list(FIELDS)}")  # a TS/Python mismatch
    ca = _file(spec, "ca_file", True)
    cert = _file(spec, "cert_file", True)
    key = _file(spec, "key_file", False)
    require = spec.get("require_encryption", True)
    if not isinstance(require, bool):
        raise BridgeConfigError(f"security.requireEncryption must be true or false, got {require!r}")
    kwargs: dict[str, Any] = {"tls_ca_file": ca}
    for role in roles:
        kwargs[f"tls_{role}_cert"] = cert
        if key is not None:
            kwargs[f"tls_{role}_key"] = key
    return Security(require_encryption=require, **kwargs)


def needs_credentials(address: str, security: Security | None) -> bool:
    """A ``tls://`` address with neither a ``security`` option nor Dask's TLS configuration for a client."""
    if not address.startswith("tls://"):
        return False
    sec = security if security is not None else Security()
    return not (sec.tls_ca_file and sec.tls_client_cert)
