"""Replace a folder with a freshly built one so that readers see the old one or the new one,
never a half-written one. The model conversion and its ONNX export both need this: each is
slow, can be killed part-way, and is read by other processes while it is being rebuilt.

Callers hold the folder's lock; leftovers of killed builds are named after the folder and
cleared on the next build. Only what this module names (`.NAME.tmp-PID-HEX`, `.NAME.old-HEX`)
counts as a leftover, and a caller that passes `is_ours` has `final` replaced only when that
says it is a folder the caller built: a cache directory can be pointed at a user's folder.
"""
from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from index.errors import UserError


@contextmanager
def rebuilt(final: Path, is_ours: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """A fresh path beside `final` (not created) to build into; when the block ends without
    error it takes `final`'s place through one rename, and the old folder is dropped.

    With `is_ours`, a non-empty `final` it does not recognise is refused (UserError, before
    any work) rather than replaced."""
    final = Path(final)
    parent, name = final.parent, final.name
    if is_ours is not None and _occupied(final) and not is_ours(final):
        raise UserError(f"{final}: not a folder qa built, so qa will not replace it; move it "
                        "away or choose another cache folder (QA_MODEL_CACHE)")
    leftover = re.compile(rf"^\.{re.escape(name)}\.(tmp-\d+-[0-9a-f]+|old-[0-9a-f]+)$")
    if parent.is_dir():
        for stale in parent.iterdir():
            if leftover.match(stale.name) and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
    tmp = parent / f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        yield tmp
        if is_ours is not None and _occupied(final) and not is_ours(final):
            raise UserError(f"{final}: not a folder qa built, so qa will not replace it")
        if final.exists():  # an older or broken build: move it aside, then drop it
            old = parent / f".{name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(final, old)
            shutil.rmtree(old, ignore_errors=True)
        os.rename(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _occupied(path: Path) -> bool:
    """Something is at `path` besides an empty folder."""
    if os.path.islink(path) or path.is_file():
        return True
    return path.is_dir() and any(path.iterdir())
