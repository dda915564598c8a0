"""Name -> builder registries with introspectable options (one per family: models, losses).

The same table feeds `build`, the study YAML validator and `mtl-study models list`, so a name
or an option exists in exactly one place.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class RegistryError(ValueError):
    """An unknown name or option, or an option value of the wrong type."""


def _nearest(name: str, valid: list[str]) -> str:
    match = difflib.get_close_matches(name, valid, n=1, cutoff=0.4)
    return f"; did you mean {match[0]!r}?" if match else ""


@dataclass(frozen=True)
class Option:
    """One option of a registered builder.

    Attributes:
        default: value used when the option is not given (None = "unset", allowed).
        type: `bool`, `int`, `float`, `str` or `tuple` (a list of `choices`).
        help: one line for `mtl-study models list`.
        choices: allowed values (for `str`), or allowed elements (for `tuple`).
    """

    default: Any
    type: type
    help: str
    choices: tuple[Any, ...] | None = None

    def describe(self) -> str:
        """`type = default` plus the choices, as the CLI prints it."""
        default = list(self.default) if isinstance(self.default, tuple) else self.default
        text = f"{self.type.__name__} = {default!r}"
        return f"{text} (one of {', '.join(map(str, self.choices))})" if self.choices else text

    def check(self, where: str, value: Any) -> Any:
        """Return `value` converted to the option's type, or raise `RegistryError`."""
        if value is None and self.default is None:
            return None
        ok = {
            bool: lambda v: isinstance(v, bool),
            int: lambda v: isinstance(v, int) and not isinstance(v, bool),
            float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            str: lambda v: isinstance(v, str),
            tuple: lambda v: isinstance(v, list | tuple) and all(isinstance(e, str) for e in v),
        }[self.type](value)
        if not ok:
            raise RegistryError(f"{where}: expected {self.type.__name__}, got {value!r}")
        if self.type is tuple:
            value = tuple(value)
            bad = [e for e in value if self.choices and e not in self.choices]
            if bad or not value or len(set(value)) != len(value):
                raise RegistryError(
                    f"{where}: {list(value)!r} must be distinct, non-empty values from "
                    f"{list(self.choices or ())}"
                )
            return value
        if self.choices and value not in self.choices:
            raise RegistryError(f"{where}: {value!r} is not one of {list(self.choices)}")
        return float(value) if self.type is float else value


@dataclass(frozen=True)
class Entry:
    """A registered name: its builder, its options and a one-line summary."""

    name: str
    factory: Callable[..., Any]
    options: Mapping[str, Option]
    summary: str


class Registry:
    """Registered builders of one family, looked up by the names study files use."""

    def __init__(self, family: str) -> None:
        self.family = family
        self._entries: dict[str, Entry] = {}

    def register(
        self, name: str, factory: Callable[..., Any], options: Mapping[str, Option], summary: str
    ) -> None:
        """Add `name`; registering a name twice is a programming error."""
        if name in self._entries:
            raise RegistryError(f"{self.family} {name!r} is registered twice")
        self._entries[name] = Entry(name, factory, dict(options), summary)

    def names(self) -> list[str]:
        """Registered names in registration order."""
        return list(self._entries)

    def entry(self, name: str) -> Entry:
        """The entry of `name`; unknown names list the valid ones and the nearest match."""
        if name not in self._entries:
            raise RegistryError(
                f"unknown {self.family} {name!r}; valid: {', '.join(self._entries)}"
                + _nearest(name, list(self._entries))
            )
        return self._entries[name]

    def resolve(
        self, name: str, options: Mapping[str, Any], reserved: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Check `options` against the entry of `name` and fill in the defaults.

        Args:
            name: registered name.
            options: user options (from Python or a study file).
            reserved: options the caller sets itself -> why (given by the user: an error).

        Raises:
            RegistryError: unknown name or option, reserved option, or a value of the wrong type.
        """
        entry = self.entry(name)
        reserved = reserved or {}
        resolved: dict[str, Any] = {}
        for key, value in options.items():
            where = f"{self.family} {name!r} option {key!r}"
            if key in reserved:
                raise RegistryError(f"{where} is not settable here: {reserved[key]}")
            if key not in entry.options:
                valid = [k for k in entry.options if k not in reserved]
                raise RegistryError(
                    f"{self.family} {name!r} has no option {key!r}; valid: "
                    f"{', '.join(valid) or '(none)'}" + _nearest(key, valid)
                )
            resolved[key] = entry.options[key].check(where, value)
        for key, option in entry.options.items():
            resolved.setdefault(key, option.default)
        return resolved
