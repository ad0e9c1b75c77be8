"""Everything a checker may ask about one file, computed lazily.

The resolver is cheap and always built; the FileIndex (classes, bindings,
contents) only when a checker asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from .api import Api
from .config import Config
from .flavour import detect_flavour, flavour_of_base
from .index import FileIndex
from .names import NameResolver
from .project import ModuleLocator


@dataclass
class FileContext:
    filename: str
    source: str
    module: cst.Module
    api: Api
    config: Config
    names: Optional[NameResolver] = None  # built from the tree when not given
    _index: Optional[FileIndex] = field(default=None, init=False)
    _flavour: Optional[str] = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.names is None:
            self.names = NameResolver.from_module(self.module)
        self.locator = ModuleLocator(self.filename)

    @property
    def dependencies(self) -> list:
        """Other project files the findings were computed from (cache keys),
        and the paths whose absence they assumed."""
        return self.locator.used + self.locator.missing

    @property
    def index(self) -> FileIndex:
        if self._index is None:
            self._index = FileIndex(self.module, self.names, self.api, self.locator)
        return self._index

    @property
    def flavour(self) -> str:
        """"keras2" or "keras3": which Keras this file runs under."""
        if self._flavour is None:
            self._flavour = detect_flavour(self.names, self.source, self.config.keras)
        return self._flavour

    def class_flavour(self, raw_base: Optional[str]) -> str:
        """"keras2" or "keras3" for a class whose Keras base was imported as `raw_base`."""
        return flavour_of_base(raw_base, self.names, self.source, self.config.keras)
