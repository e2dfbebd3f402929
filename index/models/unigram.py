"""Tokenise exactly like a model's Unigram `tokenizer.json`, but load in milliseconds.

`tokenizers.Tokenizer.from_file` spends 1-2 s building its trie over the 250k pieces of
multilingual-e5's vocabulary: longer than everything else a cold `qa ask` does. Questions and
answer sentences are short, so a plain dictionary Viterbi in Python is fast enough per call
and its vocabulary loads from a flat file in a few tens of milliseconds. Normalising and
pre-tokenising are still done by `tokenizers` itself (built from the same JSON with the
vocabulary left out, which is instant), so only the segmentation is reimplemented; it follows
`tokenizers`' `Unigram::encode_optimized` step for step, ties and unknown characters included,
and tests compare ids with `tokenizers` on real text.

Only the layout the exporter accepts is handled (see `check_supported`): a Unigram model
without byte fallback, every added token special, and a post-processor that wraps one
sequence in fixed special tokens.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PIPELINE_FILE = "tokenizer-pipeline.json"
PIECES_FILE = "pieces.txt"
SCORES_FILE = "scores.npy"
# Separates pieces in PIECES_FILE; the exporter refuses a vocabulary that contains it.
SEPARATOR = "\0"
# tokenizers' K_UNK_PENALTY: an unknown character costs this much below the rarest piece.
UNK_PENALTY = 10.0
# Words whose segmentation is remembered. Indexing embeds each word of a paragraph three times
# (the paragraph and two overlapping windows), and news repeats its vocabulary: on IndoSum
# this makes tokenising about ten times faster. Its 97,000 distinct words held 26 MB; 50,000
# hold 6 MB and tokenise its paragraphs in 5.2 s instead of 4.7 (20,000: 7.4 s).
CACHE_WORDS = 50_000


def _word_marker(pre_tokenizer) -> str | None:
    """The Metaspace replacement character that starts each word, if that is the pre-tokenizer."""
    if type(pre_tokenizer).__name__ != "Metaspace":
        return None
    marker = getattr(pre_tokenizer, "replacement", None)
    return marker if isinstance(marker, str) and len(marker) == 1 else None


class UnsupportedTokenizer(ValueError):
    """The tokenizer.json is not a layout this module reproduces exactly."""


def check_supported(data: dict[str, Any]) -> tuple[list[int], list[int]]:
    """Return the special ids put before and after each text, or raise UnsupportedTokenizer."""
    model = data.get("model") or {}
    if model.get("type") != "Unigram" or model.get("byte_fallback"):
        raise UnsupportedTokenizer("not a Unigram model without byte fallback")
    if model.get("unk_id") is None:
        raise UnsupportedTokenizer("Unigram model without an unknown-token id")
    if any(not t.get("special") for t in data.get("added_tokens") or []):
        raise UnsupportedTokenizer("has non-special added tokens")
    post = data.get("post_processor") or {}
    if post.get("type") != "TemplateProcessing":
        raise UnsupportedTokenizer("post-processor is not a template")
    before: list[int] = []
    after: list[int] = []
    seen_sequence = False
    for item in post["single"]:
        if "Sequence" in item:
            if seen_sequence:
                raise UnsupportedTokenizer("template repeats the sequence")
            seen_sequence = True
        else:
            ids = post["special_tokens"][item["SpecialToken"]["id"]]["ids"]
            (after if seen_sequence else before).extend(ids)
    if not seen_sequence:
        raise UnsupportedTokenizer("template has no sequence")
    return before, after


def write(data: dict[str, Any], folder: Path) -> None:
    """Split a Unigram tokenizer.json into the three files `UnigramTokenizer.load` reads."""
    import numpy as np

    check_supported(data)
    vocab = data["model"]["vocab"]
    pieces = [p for p, _ in vocab]
    if any(SEPARATOR in p for p in pieces):
        raise UnsupportedTokenizer("a vocabulary piece contains NUL")
    stub = json.loads(json.dumps(data))
    # A one-piece vocabulary: enough for tokenizers to build the normaliser and
    # pre-tokeniser objects, which are all that is used of it.
    stub["model"]["vocab"] = [vocab[data["model"]["unk_id"]]]
    stub["model"]["unk_id"] = 0
    stub["added_tokens"] = []
    stub["post_processor"] = None
    stub["truncation"] = stub["padding"] = None
    folder = Path(folder)
    (folder / PIPELINE_FILE).write_text(json.dumps(stub, ensure_ascii=False), encoding="utf-8")
    (folder / PIECES_FILE).write_text(SEPARATOR.join(pieces), encoding="utf-8")
    np.save(folder / SCORES_FILE, np.asarray([s for _, s in vocab], dtype=np.float64))


class UnigramTokenizer:
    """Text to ids (specials included, truncated to `max_tokens`), as the model's tokenizer."""

    def __init__(self, pipeline_json: str, pieces: list[str], scores: list[float], unk_id: int,
                 before: list[int], after: list[int], max_tokens: int) -> None:
        from tokenizers import Tokenizer

        pipeline = Tokenizer.from_str(pipeline_json)
        self._normalizer = pipeline.normalizer
        self._pre_tokenizer = pipeline.pre_tokenizer
        # Later duplicates win, as in tokenizers' token-to-id map.
        self._ids = dict(zip(pieces, range(len(pieces))))
        self._pieces = pieces
        self._scores = scores
        self._unk = unk_id
        self._unk_score = min(scores) - UNK_PENALTY
        self._longest = max(map(len, pieces))
        self._before, self._after = before, after
        self._room = max_tokens - len(before) - len(after)
        self._cache: dict[str, list[int]] = {}  # word -> its pieces; words recur all the time
        marker = _word_marker(self._pre_tokenizer)
        self._marker = marker if marker and not any(marker in p[1:] for p in pieces) else None

    @classmethod
    def load(cls, folder: Path, unk_id: int, before: list[int], after: list[int],
             max_tokens: int) -> UnigramTokenizer:
        import numpy as np

        folder = Path(folder)
        pieces = (folder / PIECES_FILE).read_text(encoding="utf-8").split(SEPARATOR)
        scores = np.load(folder / SCORES_FILE).tolist()
        return cls((folder / PIPELINE_FILE).read_text(encoding="utf-8"), pieces, scores, unk_id,
                   before, after, max_tokens)

    def encode(self, text: str) -> list[int]:
        if self._normalizer is not None:
            text = self._normalizer.normalize_str(text)
        parts = [s for s, _ in self._pre_tokenizer.pre_tokenize_str(text)] if self._pre_tokenizer else [text]
        ids: list[int] = []
        cache = self._cache
        for part in parts:
            for word in self._words(part):
                pieces = cache.get(word)
                if pieces is None:
                    if len(cache) >= CACHE_WORDS:
                        cache.clear()
                    pieces = cache[word] = self._segment(word)
                ids.extend(pieces)
        return self._before + ids[: self._room] + self._after

    def _words(self, part: str) -> list[str]:
        """The part cut before each word marker, when no piece holds the marker past its first
        character: no piece can then cross a cut, so segmenting the words one by one finds the
        same split as segmenting the whole part (the pre-tokenizer of multilingual-e5 does not
        split, so without this every text is one lattice and nothing repeats)."""
        if self._marker is None or len(part) < 2:
            return [part]
        words = part.split(self._marker)
        out = [words[0]] if words[0] else []
        out.extend(self._marker + w for w in words[1:])
        return out

    def piece(self, token_id: int) -> str:
        """The piece an id stands for (the unknown token's own piece for the unknown id)."""
        return self._pieces[token_id]

    def _segment(self, text: str) -> list[int]:
        """Best-scoring split of `text` into pieces; runs of unknown characters become one
        unknown token. Positions are code points: pieces are whole strings, so this visits the
        same lattice as tokenizers' byte-level trie, in the same order (shorter pieces first,
        a later candidate only winning when strictly better)."""
        n = len(text)
        if n == 0:
            return []
        ids, scores, longest = self._ids, self._scores, self._longest
        best = [0.0] * (n + 1)
        start: list[int] = [-1] * (n + 1)
        token = [0] * (n + 1)
        start[0] = 0
        for i in range(n):
            here = best[i]
            single = False
            for j in range(i + 1, min(n, i + longest) + 1):
                piece = ids.get(text[i:j])
                if piece is None:
                    continue
                score = scores[piece] + here
                if start[j] < 0 or score > best[j]:
                    best[j], start[j], token[j] = score, i, piece
                if j == i + 1:
                    single = True
            if not single:
                score = self._unk_score + here
                if start[i + 1] < 0 or score > best[i + 1]:
                    best[i + 1], start[i + 1], token[i + 1] = score, i, self._unk
        out: list[int] = []
        end = n
        unknown_end = -1  # end of the run of unknown tokens being fused, if any
        while end > 0:
            begin = start[end]
            if token[end] == self._unk:
                if unknown_end < 0:
                    unknown_end = end
            else:
                if unknown_end >= 0:
                    out.append(ids.get(text[end:unknown_end], self._unk))
                    unknown_end = -1
                out.append(token[end])
            end = begin
        if unknown_end >= 0:
            out.append(ids.get(text[0:unknown_end], self._unk))
        out.reverse()
        return out
