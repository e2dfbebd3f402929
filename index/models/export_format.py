"""Where a model's ONNX export lives and when it counts as finished: shared by the writer
(`index.models.onnx_export`) and the reader (`index.models.onnx_encoder`).

Only the standard library is imported.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

EXPORT_DIRNAME = "onnx"
META_FILE = "qa_onnx.json"
GRAPH_FILE = "model.onnx"
# Bump when the export's layout or graph changes: older exports are then redone.
EXPORT_VERSION = 4
# The graph's outputs: the pooled, normalised vector, and the token states of one layer
# (`index.models.TOKEN_STATE_LAYER`) that the confidence judgement matches words with.
SENTENCE_OUTPUT = "sentence_embedding"
TOKENS_OUTPUT = "token_states"
# An export (and the bfloat16 runner of its graph) is used only when it reproduces the
# reference within this cosine on the probe texts.
PARITY_MIN = 0.9999
# Probe texts for the parity check: both languages, both prompts, a tie-prone short text,
# special-token strings inside text, odd whitespace, marks, and one text past 512 tokens.
PROBES = [
    "Who summoned the Russian ambassador?",
    "Siapa yang memanggil duta besar Rusia?",
    "Berapa korban banjir di Jakarta Timur pada hari Senin?",
    "  spaces   inside and <s> specials </s> <unk>  ",
    "café naïve e\u0301 \u00e9t\u00e9 — 😀 ｶﾀｶﾅ",
    "Presiden menyampaikan pidato kenegaraan di depan anggota DPR. " * 60,
]


def export_dir(model_dir: Path) -> Path:
    return Path(model_dir) / EXPORT_DIRNAME


def read_export(model_dir: Path, fingerprint: str) -> dict[str, Any] | None:
    """The export's metadata if it is finished, current, and made from these weights."""
    try:
        meta = json.loads((export_dir(model_dir) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("export_version") != EXPORT_VERSION or meta.get("fingerprint") != fingerprint:
        return None
    return meta


def safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file, with each entry's absolute byte offset added."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    for name, entry in header.items():
        if name != "__metadata__":
            entry["offset"] = 8 + size + entry["data_offsets"][0]
    return header
