"""Backends of one kind, picked by name: object detectors (base.detectors) and face backends
(face.base.face_backends) alike.

A backend class registers itself with ``@registry.register("name")``. Its module is listed in
the registry's `modules` and imported only when that backend is asked for: the inference
libraries it imports stay out of every process that never uses it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Classes of `base` by name; unknown or broken names raise `error` with one line."""

    def __init__(self, kind: str, base: type, modules: dict[str, str], error: type[Exception]) -> None:
        self.kind = kind
        self.base = base
        self.modules = modules  # name -> module that registers it
        self.error = error
        self._classes: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: make a subclass of `base` available as ``get(name)``."""

        def decorate(cls: type[T]) -> type[T]:
            if not (isinstance(cls, type) and issubclass(cls, self.base)):
                raise TypeError(f"@register({name!r}) must decorate a {self.base.__name__} subclass")
            existing = self._classes.get(name)
            if existing is not None and existing is not cls:
                raise ValueError(f"{self.kind} {name!r} is already registered by {existing.__qualname__}")
            cls.name = name  # type: ignore[attr-defined]  # every base declares `name`
            self._classes[name] = cls
            return cls

        return decorate

    def unregister(self, name: str) -> None:
        self._classes.pop(name, None)

    def names(self) -> list[str]:
        """Names one can ask for (registered, or importable on demand)."""
        return sorted(set(self.modules) | set(self._classes))

    def get(self, name: str) -> type[T]:
        if name not in self._classes:
            module = self.modules.get(name)
            if module is None:
                raise self.error(f"unknown {self.kind} {name!r}; choose one of {', '.join(self.names())}")
            try:
                importlib.import_module(module)
            except ImportError as e:
                raise self.error(f"{self.kind} {name!r} cannot be imported: {e}") from e
            if name not in self._classes:
                raise self.error(f"{module} does not register a {self.kind} named {name!r}")
        return self._classes[name]
