"""Embed questions (and the answer path's sentences) with onnxruntime, without torch.

The query-side twin of `index.models.embedder.Embedder` for a model exported by `index.models.onnx_export`:
same attributes (name, fingerprint, dim, prompts), same `embed_queries` / `embed_passages`,
same vectors to within float rounding (cosine >= 0.9999, checked at export and in tests).
A cold process imports numpy, onnxruntime and tokenizers (~0.3 s) instead of torch and
sentence-transformers (several seconds).

Word embeddings are gathered from a memory map of the model's safetensors file; only the
rows of the tokens asked about are ever read.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from index.models.export_format import GRAPH_FILE, SENTENCE_OUTPUT, TOKENS_OUTPUT, safetensors_header

if TYPE_CHECKING:
    import numpy as np

    from index.models.token_states import TokenStates


def cores_idle() -> bool:
    """Whether onnxruntime's worker threads may spin-wait between operators.

    Spinning saves the wake-up after every operator (one question, 2 cores, idle machine:
    median 8.7 ms spinning, 11.3 ms sleeping); on a busy machine (CI, a shared box) the
    spinning threads steal the CPU from the thread doing the work (median 96 ms spinning,
    29 ms not). The load average over the last minute tells which machine this is when the
    session is made; `QA_ORT_SPIN=0|1` decides instead.
    """
    import os

    forced = os.environ.get("QA_ORT_SPIN", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    try:
        load = os.getloadavg()[0]
    except OSError:  # not every platform reports it: sleeping is the safe side
        return False
    return load < (os.cpu_count() or 1) - 0.5


class QueryEncoder:
    """A loaded export plus what an index checks it against (see `index.indexing.build.manifest_for`)."""

    def __init__(self, model_dir: Path, export_dir: Path, meta: dict[str, Any], name: str) -> None:
        import numpy as np
        import onnxruntime as ort

        from index.models.unigram import UnigramTokenizer

        self.name = name
        self.fingerprint: str = meta["fingerprint"]
        self.dim: int = int(meta["dim"])
        self.query_prompt: str = meta["query_prompt"]
        self.passage_prompt: str = meta["passage_prompt"]
        self._pad = int(meta["pad_id"])
        self._specials = {int(i) for i in (*meta["before"], *meta["after"])}
        self._tokenizer = UnigramTokenizer.load(export_dir, int(meta["unk_id"]), list(meta["before"]),
                                                list(meta["after"]), int(meta["max_tokens"]))
        table = meta["embeddings"]
        weights = Path(model_dir) / table["file"]
        entry = safetensors_header(weights)[table["tensor"]]
        self._table = np.memmap(weights, dtype="<f4", mode="r", offset=entry["offset"],
                                shape=tuple(entry["shape"]))
        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are not the user's business
        options.add_session_config_entry("session.intra_op.allow_spinning",
                                         "1" if cores_idle() else "0")
        # ...and stop spinning when a run returns, or they steal the cores FAISS searches
        # with next (IndoSum, dense search p50 3.9 ms after a sleeping run, 6.6 ms spinning).
        options.add_session_config_entry("session.force_spinning_stop", "1")
        self._session = ort.InferenceSession(str(Path(export_dir) / GRAPH_FILE), options,
                                             providers=["CPUExecutionProvider"])

    def __repr__(self) -> str:
        return f"QueryEncoder(name={self.name!r}, dim={self.dim}, fingerprint={self.fingerprint[:12]!r})"

    def token_ids(self, text: str) -> list[int]:
        """Ids as the model's tokenizer gives them (prompt already in `text`)."""
        return self._tokenizer.encode(text)

    def _run(self, ids: list[list[int]], output: str = SENTENCE_OUTPUT) -> np.ndarray:
        import numpy as np

        width = max(map(len, ids))
        padded = np.full((len(ids), width), self._pad, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, seq in enumerate(ids):
            padded[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        embeds = np.asarray(self._table[padded])  # copies just these rows out of the map
        (out,) = self._session.run([output], {"inputs_embeds": embeds, "attention_mask": mask})
        return out

    def _encode(self, texts: list[str], prompt: str, batch_size: int,
                on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Shortest-first batches (padding is wasted compute); results in input order."""
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        ids = [self._tokenizer.encode(prompt + t) for t in texts]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        step = max(1, batch_size)
        for start in range(0, len(order), step):
            rows = order[start : start + step]
            out[rows] = self._run([ids[i] for i in rows])
            if on_batch is not None:
                on_batch(start + len(rows))
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's query prompt."""
        return self._encode(list(texts), self.query_prompt, 32)

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32,
                       on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's passage prompt."""
        return self._encode(list(texts), self.passage_prompt, batch_size, on_batch)


    def token_states(self, text: str, side: str = "query") -> TokenStates:
        """The text's token states at `TOKEN_STATE_LAYER` (the graph's second output), with the
        `side`'s prompt applied and then left out, as `Embedder.token_states` gives them."""
        from index.models.token_states import from_encoder

        prompt = self.query_prompt if side == "query" else self.passage_prompt
        ids = self._tokenizer.encode(prompt + text)
        states = self._run([ids], TOKENS_OUTPUT)[0]
        special = {self._pad, *self._specials}
        return from_encoder([self._tokenizer.piece(i) for i in ids], states,
                            [i not in special for i in ids], prompt)


def load_query_encoder(model_dir: Path, name: str, fingerprint: str) -> QueryEncoder | None:
    """The encoder for `model_dir`'s export, or None when it has no current export."""
    from index.models.export_format import export_dir, read_export

    meta = read_export(model_dir, fingerprint)
    if meta is None:
        return None
    return QueryEncoder(model_dir, export_dir(model_dir), meta, name)
