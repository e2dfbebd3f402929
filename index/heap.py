"""Hand freed heap memory back to the system.

glibc keeps the pages that torch's or OpenVINO's allocations freed, so without this a process
stays as large as its largest embedding run. Only the standard library is imported.
"""
from __future__ import annotations


def hand_back_free_memory() -> None:
    """malloc_trim through the symbols already loaded (libc's among them); a no-op where there
    is no glibc."""
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
