"""Turn questions and paragraphs into unit vectors, whatever sentence-transformers model is chosen.

Besides the default e5 conversion, any other name or folder is loaded by sentence-transformers
unchanged (see `index.models.load`), so nothing here may assume e5: prompts come from the
model's own configuration.

torch, sentence-transformers and numpy are imported inside functions only: importing
sentence-transformers costs several seconds, and commands that never embed must start at once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:
    import numpy as np

    from index.models.token_states import TokenStates


# A batch holds at most this many characters: its size times its longest text. Attention
# memory grows with batch size times length squared, and 32 of IndoSum's longest windows in
# one batch were the peak of a whole indexing run (650 MB over the loaded model; this budget:
# 270 MB, no slower; benchmarks/RESULTS.md, issue 18). Short texts still go 32 at a time.
BATCH_CHARS = 12_000


def batch_texts(longest: int, batch_size: int) -> int:
    """How many texts, the longest of `longest` characters, go in one batch."""
    return max(1, min(max(1, batch_size), BATCH_CHARS // max(longest, 1)))


class Embedder:
    """A loaded model plus what an index must record to stay consistent with it.

    `fingerprint` changes whenever the weights do, so an index built with other weights can be
    detected instead of silently returning poor matches. `query_prompt` / `passage_prompt`
    are exposed so they can be recorded and shown; they are applied here, never by callers.
    """

    # sentence-transformers tokenises inside `encode`, so the tokens are not counted here.
    tokens_embedded: int | None = None
    runner_note = "sentence-transformers (torch)"

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
        done = start = 0
        while start < len(order):
            size = batch_texts(len(texts[order[start]]), batch_size)
            idx = order[start : start + size]
            out[idx] = self._encode([texts[i] for i in idx], self._passage_prompt_name, "document", len(idx))
            start += size
            done += len(idx)
            if on_batch is not None:
                on_batch(done)
        return out

    def reference_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (prompt already in it) as the model's own tokenizer gives
        them, truncated as `encode` truncates: what an export's tokenizer is held to."""
        tokenizer = self.model.tokenizer
        return tokenizer(list(texts), truncation=True, max_length=int(self.model.max_seq_length))["input_ids"]

    def token_states(self, text: str, side: str = "query") -> TokenStates:
        """The text's token states at `TOKEN_STATE_LAYER`, with the `side`'s prompt applied
        and then left out (see `index.models.token_states`). Only for a Transformer-first
        module stack, as the default model's is."""
        import torch

        from index.models import TOKEN_STATE_LAYER
        from index.models.token_states import from_encoder

        prompt = self.query_prompt if side == "query" else self.passage_prompt
        tokenizer = self.model.tokenizer
        enc = tokenizer(prompt + text, return_tensors="pt", truncation=True,
                        max_length=int(self.model.max_seq_length))
        with torch.no_grad():
            out = self.model[0].auto_model(**enc, output_hidden_states=True)
        ids = enc["input_ids"][0].tolist()
        # Unknown characters are text; only the framing and padding tokens are left out.
        special = set(tokenizer.all_special_ids) - {tokenizer.unk_token_id}
        return from_encoder(tokenizer.convert_ids_to_tokens(ids),
                            out.hidden_states[TOKEN_STATE_LAYER][0].numpy(),
                            [i not in special for i in ids], prompt)


def load_st(name_or_path: str, local: bool):
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
