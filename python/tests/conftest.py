import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if shutil.which("node") is None:  # pragma: no cover
    pytest.exit("node is required for the daskflow bridge tests", returncode=1)

