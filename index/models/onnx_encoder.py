"""Embed questions, answer sentences and passages to index from the ONNX export, without torch.

The twin of `index.models.embedder.Embedder` for a model exported by `index.models.onnx_export`:
same attributes (name, fingerprint, dim, prompts), same `embed_queries` / `embed_passages`,
same vectors to within float rounding (cosine >= 0.9999, checked at export and in tests).
A cold process imports numpy, onnxruntime and tokenizers (~0.3 s) instead of torch and
sentence-transformers (several seconds).

Passages to index go in token-bounded batches, to the bfloat16 runner of
`index.models.openvino_runner` where the machine has a checked one.

Word embeddings are gathered from a memory map of the model's safetensors file; only the
rows of the tokens asked about are ever read.
"""
from __future__ import annotations

import mmap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from index.heap import hand_back_free_memory
from index.models.export_format import GRAPH_FILE, SENTENCE_OUTPUT, TOKENS_OUTPUT, safetensors_header

if TYPE_CHECKING:
    import numpy as np

    from index.models.openvino_runner import Batch, OpenVinoRunner
    from index.models.token_states import TokenStates
    from index.models.word_senses import WordSenses

# A batch holds at most this many padded tokens (rows times the longest row). Attention memory
# grows with rows times width squared: 32 texts of 512 tokens would need 1.2 GB for it alone.
# On the bfloat16 runner 512 was as fast as 1,024 and held 55 MB less; 256 was 30% slower
# (benchmarks/RESULTS.md, issue 19).
BATCH_TOKENS = 512
# Fewer texts than this are embedded by onnxruntime in float32: the bfloat16 runner costs
# about a second to load and check, and half a second per width band (see openvino_runner).
RUNNER_MIN = 1000
# Batches between two releases of the word-embedding rows read (see `_forget_rows`): each
# costs a few hundred page faults, against 100 MB more resident at 64.
FORGET_EVERY = 1
# The padded widths of the bfloat16 runner's batches: at most a third of a batch is padding.
WIDTHS = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


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


class OnnxEncoder:
    """A loaded export plus what an index checks it against (see `index.indexing.build.manifest_for`)."""

    reads_word_senses = True  # `embed_passages` can fill index.models.word_senses

    def __init__(self, model_dir: Path, export_dir: Path, meta: dict[str, Any], name: str) -> None:
        import numpy as np

        from index.models.unigram import UnigramTokenizer

        self.name = name
        self.fingerprint: str = meta["fingerprint"]
        self.dim: int = int(meta["dim"])
        self.query_prompt: str = meta["query_prompt"]
        self.passage_prompt: str = meta["passage_prompt"]
        self._model_dir, self._export_dir = Path(model_dir), Path(export_dir)
        self._max_tokens = int(meta["max_tokens"])
        self._runner: OpenVinoRunner | bool | None = None  # False: tried, none here
        self.runner_note = "not loaded yet"
        self.tokens_embedded = 0  # passage tokens, for the rate an index run reports
        self._pad = int(meta["pad_id"])
        self._specials = {int(i) for i in (*meta["before"], *meta["after"])}
        self._tokenizer = UnigramTokenizer.load(export_dir, int(meta["unk_id"]), list(meta["before"]),
                                                list(meta["after"]), int(meta["max_tokens"]))
        table = meta["embeddings"]
        weights = Path(model_dir) / table["file"]
        entry = safetensors_header(weights)[table["tensor"]]
        with open(weights, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        shape = tuple(entry["shape"])
        self._table = np.frombuffer(self._map, dtype="<f4", count=shape[0] * shape[1],
                                    offset=entry["offset"]).reshape(shape)
        # Opened now: a damaged export must fail here, where load_model falls back.
        self._ort: Any = self._open_session()

    @property
    def _session(self) -> Any:
        """onnxruntime's session, opened again if `_runner_parity` let go of it."""
        if self._ort is None:
            self._ort = self._open_session()
        return self._ort

    def _open_session(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are not the user's business
        options.add_session_config_entry("session.intra_op.allow_spinning",
                                         "1" if cores_idle() else "0")
        # ...and stop spinning when a run returns, or they steal the cores FAISS searches
        # with next (IndoSum, dense search p50 3.9 ms after a sleeping run, 6.6 ms spinning).
        options.add_session_config_entry("session.force_spinning_stop", "1")
        return ort.InferenceSession(str(self._export_dir / GRAPH_FILE), options,
                                    providers=["CPUExecutionProvider"])

    def __repr__(self) -> str:
        return f"OnnxEncoder(name={self.name!r}, dim={self.dim}, fingerprint={self.fingerprint[:12]!r})"

    def token_ids(self, text: str) -> list[int]:
        """Ids as the model's tokenizer gives them (prompt already in `text`)."""
        return self._tokenizer.encode(text)

    def _padded(self, ids: list[list[int]], width: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The rows' word embeddings padded to the longest (or `width`), and the attention mask."""
        import numpy as np

        width = max(width, *map(len, ids))
        padded = np.full((len(ids), width), self._pad, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, seq in enumerate(ids):
            padded[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        return np.asarray(self._table[padded]), mask  # copies just these rows out of the map

    def _run(self, ids: list[list[int]], output: str = SENTENCE_OUTPUT) -> np.ndarray:
        embeds, mask = self._padded(ids)
        (out,) = self._session.run([output], {"inputs_embeds": embeds, "attention_mask": mask})
        return out

    def _forget_rows(self) -> None:
        """Unmap the word-embedding rows read so far. They stay in the page cache, so reading
        them again costs a page fault, not a disk read; without this a long indexing run
        ends up holding most of the 384 MB table as its own resident memory."""
        if hasattr(self._map, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            self._map.madvise(mmap.MADV_DONTNEED)

    def _batches(self, ids: list[list[int]], batch_size: int, fixed: bool = False,
                 forget: bool = False) -> Iterator[Batch]:
        """Shortest-first batches (padding is wasted compute) of at most `batch_size` rows and
        BATCH_TOKENS padded tokens, so long texts go a few at a time: attention memory grows
        with rows times width squared. `fixed`: every batch is one of a few shapes (widths
        from WIDTHS, rows filled up with one-token texts whose vectors are dropped), for a
        runtime that keeps buffers for every shape it has seen. `forget`: release the word
        embedding rows after each batch (a long job)."""
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start, limit, batches = 0, max(1, batch_size), 0
        while start < len(order):
            longest = len(ids[order[start]])
            if fixed:
                width = next((w for w in WIDTHS if w >= longest), longest)
                room = max(1, min(limit, BATCH_TOKENS // width))
                end = start + 1
                while end < len(order) and end - start < room and len(ids[order[end]]) <= width:
                    end += 1
                rows = order[start:end]
                filler = [[self._pad]] * (room - len(rows))
                yield (rows, *self._padded([ids[i] for i in rows] + filler, width))
            else:
                end = start + 1
                while (end < len(order) and end - start < limit
                       and (end - start + 1) * len(ids[order[end]]) <= BATCH_TOKENS):
                    end += 1
                rows = order[start:end]
                yield (rows, *self._padded([ids[i] for i in rows]))
            start = end
            batches += 1
            if forget and batches % FORGET_EVERY == 0:
                self._forget_rows()

    def _encode(self, texts: list[str], prompt: str, batch_size: int,
                on_batch: Callable[[int], None] | None = None, bulk: bool = False,
                senses: WordSenses | None = None, read: Sequence[bool] = ()) -> np.ndarray:
        """Results in input order. A `bulk` job (passages to index) goes to the bfloat16
        runner where this machine has a checked one. With `senses`, the token states of the
        texts flagged in `read` are added to it from the same run."""
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = [self._tokenizer.encode(prompt + t) for t in texts]
        def read_states(rows: list[int], states: np.ndarray) -> None:
            for row, text_states in zip(rows, states):
                if read[row]:
                    senses.add(self._states(ids[row], text_states, prompt))

        on_states = read_states if senses is not None and any(read) else None
        runner = self.passage_runner() if bulk and len(texts) >= RUNNER_MIN else None
        if runner is not None:
            runner.run(self._batches(ids, batch_size, fixed=True, forget=True), out, on_batch,
                       on_states)
        else:
            wanted = [SENTENCE_OUTPUT] + ([TOKENS_OUTPUT] if on_states else [])
            done = 0
            for rows, embeds, mask in self._batches(ids, batch_size, forget=bulk):
                got = self._session.run(wanted, {"inputs_embeds": embeds, "attention_mask": mask})
                out[rows] = got[0]
                if on_states is not None:
                    on_states(rows, got[1])
                done += len(rows)
                if on_batch is not None:
                    on_batch(done)
        if bulk:
            self.tokens_embedded += sum(map(len, ids))
            self._forget_rows()
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's query prompt."""
        return self._encode(list(texts), self.query_prompt, 32)

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32,
                       on_batch: Callable[[int], None] | None = None,
                       senses: WordSenses | None = None, read: Sequence[bool] = ()) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's passage prompt; the words of
        the texts flagged in `read` are added to `senses` (index.models.word_senses)."""
        return self._encode(list(texts), self.passage_prompt, batch_size, on_batch, bulk=True,
                            senses=senses, read=read)

    def passage_runner(self) -> OpenVinoRunner | None:
        """The checked bfloat16 runner, loaded at the first bulk job; None where there is none
        (`runner_note` then says why)."""
        if self._runner is None:
            from index.models.openvino_runner import RunnerUnavailable, load_runner

            try:
                self._runner = load_runner(self._export_dir, self._runner_parity)
                self.runner_note = f"OpenVINO {self._runner.precision}"
            except RunnerUnavailable as exc:
                self._runner = False
                self.runner_note = f"onnxruntime float32 ({exc})"
        return self._runner or None

    def release_runner(self) -> None:
        """Drop the runner (about 100 MB compiled); the next bulk job loads it again."""
        self._runner = None

    def _runner_parity(self, runner: OpenVinoRunner) -> float:
        """The worst cosine between the runner's and onnxruntime's passage vectors on the
        export's probe texts (both languages, odd characters, one past 512 tokens)."""
        import numpy as np

        from index.models.export_format import PROBES

        ids = [self._tokenizer.encode(self.passage_prompt + t) for t in PROBES]
        want = np.concatenate([self._run([i]) for i in ids])
        # The runner embeds passages from here on. An indexing run needs onnxruntime for
        # nothing else, and its weights and arena are 80 MB of the 600 it may use; a later
        # question opens the session again (0.3 s).
        self._ort = None
        hand_back_free_memory()
        got = np.zeros_like(want)
        runner.run(self._batches(ids, len(ids), fixed=True), got)
        return float((want * got).sum(1).min())

    def token_states(self, text: str, side: str = "query") -> TokenStates:
        """The text's token states at `TOKEN_STATE_LAYER` (the graph's second output), with the
        `side`'s prompt applied and then left out, as `Embedder.token_states` gives them."""
        prompt = self.query_prompt if side == "query" else self.passage_prompt
        ids = self._tokenizer.encode(prompt + text)
        return self._states(ids, self._run([ids], TOKENS_OUTPUT)[0], prompt)

    def _states(self, ids: list[int], states: np.ndarray, prompt: str) -> TokenStates:
        """One text's rows of a (possibly padded) token-state output, special tokens and the
        prompt left out."""
        from index.models.token_states import from_encoder

        special = {self._pad, *self._specials}
        return from_encoder([self._tokenizer.piece(i) for i in ids], states[:len(ids)],
                            [i not in special for i in ids], prompt)


def load_onnx_encoder(model_dir: Path, name: str, fingerprint: str) -> OnnxEncoder | None:
    """The encoder for `model_dir`'s export, or None when it has no current export."""
    from index.models.export_format import export_dir, read_export

    meta = read_export(model_dir, fingerprint)
    if meta is None:
        return None
    return OnnxEncoder(model_dir, export_dir(model_dir), meta, name)
