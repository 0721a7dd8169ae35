"""A Dask worker's TLS credentials for the clients that act for its tasks: the worker's own run client
(run_clients.py) and the clients its sidecars make (a nested runner, ``getDaskClient()`` in a task), so a task
connects as its worker does, on whatever host it runs.

Runs on the worker; the bridge's own TLS settings (bridge/security.py) are another matter.
"""

from __future__ import annotations

from typing import Any


def client_security(security):
    """The worker's credentials as a client's: `dask worker --tls-cert/--tls-key` fills only the worker's role, and
    a client on a TLS-only scheduler needs them in the client's."""
    if security is None or getattr(security, "tls_client_cert", None) or not getattr(security, "tls_worker_cert", None):
        return security
    from distributed.security import Security

    return Security(
        tls_ca_file=security.tls_ca_file,
        tls_client_cert=security.tls_worker_cert,
        tls_client_key=security.tls_worker_key,
        require_encryption=security.require_encryption,
    )


def sidecar_env(security: Any) -> dict[str, str]:
    """Dask configuration (``DASK_DISTRIBUTED__COMM__...``) giving a sidecar's own clients a worker's credentials.

    The client role's cert/key when the worker has them (a worker of a cluster the bridge created), else the
    worker's own (a ``dask worker --tls-cert ...``). Values are paths on the worker's host, or PEM text for
    in-memory credentials (``Security.temporary()``), which Dask accepts in the same place.
    """
    if security is None or not (security.tls_ca_file and (security.tls_client_cert or security.tls_worker_cert)):
        return {}
    cert, key = security.tls_client_cert, security.tls_client_key
    if not cert:
        cert, key = security.tls_worker_cert, security.tls_worker_key
    env = {
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": security.tls_ca_file,
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": cert,
        "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": str(bool(security.require_encryption)),
    }
    if key:
        env["DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY"] = key
    return env
