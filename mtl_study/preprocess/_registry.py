"""A name -> plug-in table whose unknown-name error lists valid names and the nearest match."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """Raised for a name that is not registered; the message says what would be valid."""

    def __str__(self) -> str:
        return str(self.args[0])


class Registry(Generic[T]):
    """Maps YAML/CLI names to plug-ins, so the names live in one place only.

    Args:
        family: What the plug-ins are ("segmenter", "feature set"), used in error messages.
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Add `item` under `name`; a second registration of the same name is a bug."""
        if name in self._items:
            raise ValueError(f"{self.family} {name!r} is registered twice")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        """The plug-in called `name`.

        Raises:
            UnknownNameError: `name` is not registered (message lists the valid names and the
                nearest match).
        """
        try:
            return self._items[name]
        except KeyError:
            valid = ", ".join(sorted(self._items))
            close = difflib.get_close_matches(str(name), list(self._items), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(
                f"unknown {self.family} {name!r}: valid names are {valid}{hint}"
            ) from None

    def names(self) -> list[str]:
        """Registered names in registration order."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)
