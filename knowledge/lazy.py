"""Public names that load their submodule on first use (PEP 562), so importing a package
stays light: ``import knowledge`` must not pull in onnxruntime, Chroma or psycopg."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_names"]


def lazy_names(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__``: ``names`` maps each lazy public name
    to the submodule that defines it. A name is imported once, then kept on the package,
    so later lookups do not come back here."""
    module = sys.modules[package]

    def __getattr__(name: str) -> object:
        submodule = names.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{submodule}", package), name)
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(module)) | set(module.__all__))

    return __getattr__, __dir__
