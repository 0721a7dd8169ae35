"""The `start` request's security map as Dask's Security, and the worker credentials handed to sidecars."""

import pytest
from distributed.security import Security

from daskflow_bridge.bridge.errors import BridgeConfigError
from daskflow_bridge.bridge.security import make_security, needs_credentials
from daskflow_bridge.worker.credentials import sidecar_env


@pytest.fixture
def pem(tmp_path):
    # make_security only checks that the files exist; Dask reads them when it connects.
    paths = {}
    for name in ("ca", "cert", "key"):
        paths[name] = tmp_path / f"{name}.pem"
        paths[name].write_text("not read here\n")
    return {k: str(v) for k, v in paths.items()}


def test_one_cert_for_each_role_asked(pem):
    sec = make_security({"ca_file": pem["ca"], "cert_file": pem["cert"], "key_file": pem["key"], "require_encryption": True},
                        ("client", "worker"))
    assert (sec.tls_ca_file, sec.tls_client_cert, sec.tls_client_key) == (pem["ca"], pem["cert"], pem["key"])
    assert (sec.tls_worker_cert, sec.tls_worker_key) == (pem["cert"], pem["key"])
    assert sec.tls_scheduler_cert is None
    assert sec.require_encryption is True


def test_no_spec_no_security():
    assert make_security(None) is None


def test_missing_file_is_named_by_its_option(pem, tmp_path):
    with pytest.raises(BridgeConfigError, match=r"security\.keyFile '.*gone\.pem' is not a readable file"):
        make_security({"ca_file": pem["ca"], "cert_file": pem["cert"], "key_file": str(tmp_path / "gone.pem")})
    with pytest.raises(BridgeConfigError, match=r"security\.caFile must be the path of a PEM file"):
        make_security({"cert_file": pem["cert"]})
    with pytest.raises(BridgeConfigError, match="unknown fields"):
        make_security({"ca_file": pem["ca"], "cert_file": pem["cert"], "ca": "x"})


def test_tls_address_without_credentials_is_caught():
    assert needs_credentials("tls://10.0.0.1:8786", None)
    assert not needs_credentials("tcp://10.0.0.1:8786", None)
    assert not needs_credentials("tls://10.0.0.1:8786", Security(tls_ca_file="ca", tls_client_cert="c"))


def test_sidecars_get_the_workers_own_credentials_as_dask_config():
    worker_cli = Security(require_encryption=True, tls_ca_file="/etc/ca.pem", tls_worker_cert="/etc/w.pem", tls_worker_key="/etc/w.key")
    assert sidecar_env(worker_cli) == {
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": "/etc/ca.pem",
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": "/etc/w.pem",
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": "/etc/w.key",
        "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
    }
    assert sidecar_env(Security(require_encryption=False)) == {}
    assert sidecar_env(None) == {}
