"""daskflow bridge: the Python half of daskflow."""

# Equal to the npm package's version (scripts/sync-version.mjs writes it; the bridge refuses a daskflow of another).
__version__ = "0.1.0"
