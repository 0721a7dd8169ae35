"""daskflow bridge: the Python half of daskflow."""
