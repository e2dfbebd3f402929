"""Numbers read from the environment (QA_LOCK_TIMEOUT, QA_FLAT_MAX_VECTORS, ...), checked.

A value that is not a number, or one that would make qa misbehave (`nan` seconds to wait,
an exact-search limit of 0 that makes every index train a compressed one on a single
vector), is refused with one line naming the variable and what it accepts, before any work.
Only the standard library is imported.
"""
from __future__ import annotations

import math
import os

from index.errors import UserError


def env_seconds(name: str, maximum: float) -> float | None:
    """A number of seconds from 0 to `maximum` in $name; None when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= maximum:  # nan fails every comparison
        raise UserError(f"{name} must be a number of seconds from 0 to {maximum:g}, got "
                        f"{value!r}")
    return seconds


def env_count(name: str, minimum: int, why: str) -> int | None:
    """A whole number of at least `minimum` in $name (`why` says why no fewer); None when it
    is unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        count = int(value)
    except ValueError:
        count = None
    if count is None or count < minimum:
        raise UserError(f"{name} must be a whole number from {minimum:,} up ({why}), got "
                        f"{value!r}")
    return count
