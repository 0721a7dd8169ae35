import os
import sys

from . import __version__

# The daskflow npm package that starts this bridge passes its version: a bridge installed for another release
# would speak an older or newer protocol, so say so before importing anything heavy (src/dask/bridge.ts words it).
_expected = os.environ.get("DASKFLOW_NPM_VERSION")
if _expected and _expected != __version__:
    sys.stderr.write(
        f"daskflow_bridge: version mismatch: daskflow-bridge {__version__} is installed in {sys.prefix}, "
        f"daskflow is {_expected}\n"
    )
    sys.exit(3)

from .bridge.process import main  # noqa: E402

if __name__ == "__main__":
    main()
