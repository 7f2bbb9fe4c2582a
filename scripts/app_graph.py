"""Print the apps' import graph and fail when two apps import each other.

    python scripts/app_graph.py

One line per app: the apps it imports, with the number of module-to-module imports. import-linter (run
beside this by ./scripts/test) checks the layers; this shows the graph they leave, and names a
pair of apps that import each other both ways, the mark of a function in the wrong room.
"""

from __future__ import annotations

import sys
import tomllib
from collections import Counter
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    apps = config["root_packages"]
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*apps, cache_dir=None)
    arrows: Counter[tuple[str, str]] = Counter()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = importer.split(".")[0], imported.split(".")[0]
            if a != b and b in apps:
                arrows[(a, b)] += 1
    layers = next(c["layers"] for c in config["contracts"] if c["type"] == "layers")
    for app in reversed(layers):
        targets = sorted((b, n) for (a, b), n in arrows.items() if a == app)
        print(f"{app:14} -> " + (", ".join(f"{b} ({n})" for b, n in targets) or "-"))
    both_ways = sorted({tuple(sorted(pair)) for pair in arrows if pair[::-1] in arrows})
    print(f"{len(arrows)} arrows between {len(apps)} apps; pairs importing each other: {len(both_ways)}")
    for a, b in both_ways:
        print(f"error: {a} and {b} import each other", file=sys.stderr)
    return 1 if both_ways else 0


if __name__ == "__main__":
    sys.exit(main())
