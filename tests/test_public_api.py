"""Every module says what its public API is, and ``__all__`` stays honest (as httpx checks).

Public means: classes and functions a module defines whose names do not start with an
underscore. Each must be listed in the module's ``__all__``, every listed name must
exist, and a package's ``__init__`` lists every public name it offers.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

PACKAGES = ("knowledge", "arena", "bot")
ROOT = Path(__file__).resolve().parents[1]


def module_names() -> list[str]:
    names = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names.append(package_name)
        names += [
            info.name for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}.")
        ]
    return sorted(names)


def public_definitions(module: ModuleType) -> set[str]:
    """Public classes and functions defined in the module itself (not imported into it)."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    }


@pytest.mark.parametrize("name", module_names())
def test_module_declares_all(name: str) -> None:
    assert isinstance(getattr(importlib.import_module(name), "__all__", None), list)


@pytest.mark.parametrize("name", module_names())
def test_listed_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    missing = [n for n in getattr(module, "__all__", []) if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ lists names it lacks: {missing}"


@pytest.mark.parametrize("name", module_names())
def test_public_definitions_are_listed(name: str) -> None:
    module = importlib.import_module(name)
    unlisted = sorted(public_definitions(module) - set(getattr(module, "__all__", [])))
    assert not unlisted, f"{name} defines public names missing from __all__: {unlisted}"


@pytest.mark.parametrize("name", PACKAGES)
def test_package_lists_what_it_offers(name: str) -> None:
    """A package's public attributes, other than its submodules, are all in ``__all__``."""
    package = importlib.import_module(name)
    offered = {
        attr
        for attr in dir(package)
        if not attr.startswith("_")
        and not inspect.ismodule(getattr(package, attr))
        and attr != "annotations"  # from ``from __future__ import annotations``
    }
    assert offered <= set(getattr(package, "__all__", []))


def test_importing_knowledge_loads_no_heavy_library() -> None:
    """``import knowledge`` and its public names must not start Chroma or onnxruntime."""
    code = (
        "import sys, knowledge\n"
        "from knowledge import KnowledgeBase, IndexReport, Passage, load_document\n"
        "print(sorted(m for m in ('chromadb', 'onnxruntime') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
