"""Layers only import downward: text and settings → parsing → index → register → ingest run →
answering → app (web, CLI, evaluations). A module importing from a layer above its own fails here.

Imports inside functions count too: a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Module name prefixes, lowest layer first; the longest matching prefix decides a module's layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("ingest.settings", "ingest.errors", "ingest.models", "ingest.text")),
    ("parsing", ("ingest.loaders", "ingest.ocr", "ingest.split", "ingest.metadata", "ingest.chunking",
                 "ingest.sparse", "ingest.embeddings", "ingest.embed_convert")),
    ("index", ("ingest.fusion", "ingest.store", "ingest.schema", "ingest.index")),
    ("register", ("ingest.register",)),
    ("ingest run", ("ingest.pipeline", "ingest.rebuild", "ingest.backfill", "ingest.progress")),
    ("answering", ("rag",)),
    ("app", ("rag.web", "rag.cli", "rag.register_cli", "app", "evals")),
]
PACKAGES = ("ingest", "rag", "evals", "app")


def layer_of(module: str) -> int | None:
    """The layer index of a project module, or None for third-party and standard modules."""
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for level, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), level)
    return None if best is None else best[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import statement, relative ones resolved."""
    found = []
    package = module if module.count(".") == 0 else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: max(0, package.count(".") + 1 - (node.level - 1))]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            # `from ingest import settings` imports the submodule ingest.settings
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names
                      if layer_of(f"{base}.{alias.name}") is not None and f"{base}.{alias.name}" != base
                      and (ROOT / Path(*f"{base}.{alias.name}".split("."))).with_suffix(".py").exists()]
    return found


def upward_imports(module: str, source: str, where: str) -> list[str]:
    """Each import in ``source`` (module ``module``) that points at a layer above its own."""
    own = layer_of(module)
    if own is None:
        return []
    problems = []
    for line, imported in imports_of(source, module):
        if imported.split(".")[0] not in PACKAGES:
            continue
        target = layer_of(imported)
        if target is not None and target > own:
            problems.append(f"{where}:{line} ({LAYERS[own][0]}) imports {imported} ({LAYERS[target][0]})")
    return problems


def project_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for package in ("ingest", "rag", "evals"):
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def test_every_project_module_has_a_layer():
    named = [module_name(p) for p in project_files()]
    assert [m for m in named if m not in PACKAGES and layer_of(m) is None] == []


def test_no_module_imports_from_a_layer_above_it():
    problems = []
    for path in project_files():
        problems += upward_imports(module_name(path), path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert problems == []


@pytest.mark.parametrize("module, source, upward", [
    ("ingest.register.evidence", "from rag.query import analyze", True),
    ("ingest.register.storage", "from ingest.pipeline import ingest_paths", True),
    ("ingest.register.storage", "from ingest.index import Index", False),
    ("ingest.store", "def f():\n    from ingest.pipeline import ingest_paths", True),  # deferred import
    ("ingest.text.actors", "from ingest.index import Index", True),
    ("ingest.text.actors", "from ..index import Index", True),  # relative
    ("rag.answer", "import rag.web.render", True),
    ("rag.answer", "from ingest.store import Condition", False),
    ("evals.runner", "from rag.assistant import Assistant", False),
    ("ingest.pipeline", "import numpy", False),
])
def test_the_check_catches_an_upward_import(module, source, upward):
    """The rule itself: one import is flagged exactly when it points up."""
    assert bool(upward_imports(module, source, module)) is upward
