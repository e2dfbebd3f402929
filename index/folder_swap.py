"""Replace a folder with a freshly built one so that readers see the old one or the new one,
never a half-written one. The model conversion and its ONNX export both need this: each is
slow, can be killed part-way, and is read by other processes while it is being rebuilt.

Callers hold the folder's lock; leftovers of killed builds are named after the folder and
cleared on the next build.
"""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def rebuilt(final: Path) -> Iterator[Path]:
    """A fresh path beside `final` (not created) to build into; when the block ends without
    error it takes `final`'s place through one rename, and the old folder is dropped."""
    final = Path(final)
    parent, name = final.parent, final.name
    for stale in parent.glob(f".{name}.*-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = parent / f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        yield tmp
        if final.exists():  # an older or broken build: move it aside, then drop it
            old = parent / f".{name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(final, old)
            shutil.rmtree(old, ignore_errors=True)
        os.rename(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
