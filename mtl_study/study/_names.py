"""Unknown-name errors that list the valid choices and the nearest match."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def choice_error(where: str, value: object, valid: Iterable[str]) -> str:
    """Message for an unknown `value` at `where`: valid names plus the closest one."""
    names = sorted(str(v) for v in valid)
    close = difflib.get_close_matches(str(value), names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{where}: unknown value {value!r}; valid choices are {names}{hint}"
