"""The package's subpackages import one way (daskflow_bridge/__init__.py lists them): a subpackage imports only those
below it, lazy imports inside functions included. Above all, code that runs in the workers never imports the bridge
process's."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "daskflow_bridge"
# Top to bottom; each may import only the ones after it.
LAYERS = ["bridge", "worker", "session", "limits", "results", "collections", "sidecar", "shipping", "transfer"]


def imported_subpackages(path: Path) -> set[str]:
    here = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)[:-1]  # the importing module's package
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = base + (node.module.split(".") if node.module else [])
            names = [target[1]] if len(target) > 1 else [a.name for a in node.names] if target == ["daskflow_bridge"] else []
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("daskflow_bridge.")]
        else:
            continue
        out.update(n for n in names if n in LAYERS)
    return out


def test_subpackages_import_only_those_below_them():
    assert sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()) == sorted(LAYERS)
    wrong = []
    for layer in LAYERS:
        allowed = set(LAYERS[LAYERS.index(layer):])
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            wrong += [f"{path.relative_to(PACKAGE)} imports {t}/" for t in sorted(imported_subpackages(path) - allowed)]
    assert wrong == []
