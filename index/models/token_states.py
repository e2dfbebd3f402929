"""One text's per-token encoder states, for matching a question's words against a paragraph's
across languages (qa.alignment): a pooled sentence vector cannot say which of the question's
words the paragraph has, token states can.

Both encoders (sentence-transformers and the ONNX export) return this, with the model's prompt
and special tokens already left out, so callers see only the text's own pieces.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# SentencePiece marks a piece that starts a word with this character.
WORD_START = "\u2581"


@dataclass(frozen=True)
class TokenStates:
    pieces: tuple[str, ...]  # the tokenizer's pieces of the text, in order
    vectors: np.ndarray      # (len(pieces), dim) float32, each row of unit length


def words(states: TokenStates) -> list[list[int]]:
    """Row numbers of each word of the text: pieces joined at word starts."""
    groups: list[list[int]] = []
    for row, piece in enumerate(states.pieces):
        if piece.startswith(WORD_START) or not groups:
            groups.append([row])
        else:
            groups[-1].append(row)
    return groups


def spelled(states: TokenStates, rows: list[int]) -> tuple[str, list[int]]:
    """The word the rows spell, without the pieces that hold no letter or digit ("Rusia"
    "." at a sentence's end), and the rows left; all of them when none holds one."""
    kept = [r for r in rows if any(c.isalnum() for c in states.pieces[r])] or rows
    return "".join(states.pieces[r] for r in kept).replace(WORD_START, ""), kept


def from_encoder(pieces: list[str], states: np.ndarray, keep: list[bool], prompt: str) -> TokenStates:
    """Keep the pieces flagged in `keep` (the non-special ones), drop the prompt's own pieces
    from their start, and normalise the rows."""
    import numpy as np

    rows = [i for i, k in enumerate(keep) if k]
    rows = rows[_prompt_length([pieces[i] for i in rows], prompt):]
    vectors = np.asarray(states[rows], dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.maximum(norms, 1e-12)
    return TokenStates(pieces=tuple(pieces[i] for i in rows), vectors=vectors)


def _prompt_length(pieces: list[str], prompt: str) -> int:
    """How many leading pieces spell the prompt ("query: " is "▁query", ":"); 0 when the
    prompt did not tokenise apart from the text: then nothing is dropped."""
    target = "".join(prompt.split())
    if not target:
        return 0
    spelled = ""
    for i, piece in enumerate(pieces):
        spelled += piece.replace(WORD_START, "")
        if spelled == target:
            return i + 1
        if not target.startswith(spelled):
            return 0
    return 0
