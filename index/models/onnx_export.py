"""Export a prepared sentence-transformers folder so questions and passages can be embedded without torch.

Importing torch and sentence-transformers costs several seconds, which a one-off `qa ask`
would pay for one short question. So, once, when the model is prepared, the encoder is
exported to ONNX and a cold process embeds with onnxruntime (see `index.models.onnx_encoder`).
Indexing runs the same export (in bfloat16 where the CPU has it: `index.models.openvino_runner`);
sentence-transformers stays the reference it is checked against.

The word-embedding table (250k x 384 floats, 80% of the weights) is left out of the graph:
onnxruntime takes ~0.8-2.5 s to create a session holding it against ~0.15-0.25 s without it
(measured on the project machine). The graph takes `inputs_embeds` instead, and the encoder
gathers rows from the model's own safetensors file through a memory map, so nothing is stored
twice. Position and token-type embeddings, LayerNorm, the layers, mean pooling and
normalisation stay in the graph.

An export is only marked finished after it reproduced sentence-transformers (ids identical,
cosine >= PARITY_MIN) on probe texts in both languages, so a future library change that
breaks the export fails here, at preparation time, instead of returning subtly different
answers.

Only the standard library is imported at module level.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

from index.models import TOKEN_STATE_LAYER
from index.models.export_format import (EXPORT_VERSION, GRAPH_FILE, META_FILE, PARITY_MIN, PROBES,
                                        SENTENCE_OUTPUT, TOKENS_OUTPUT, export_dir,
                                        safetensors_header)
from index.models.folder_swap import rebuilt

WEIGHTS_FILE = "model.safetensors"
OPSET = 17


class ExportError(ValueError):
    """The model cannot be exported faithfully; a ValueError so callers report it as a user
    error naming the model rather than a traceback."""


def export(model_dir: Path, fingerprint: str, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write `model_dir/onnx` and return its metadata.

    The caller holds the model folder's lock. The folder appears through one rename, after
    the parity check, so a reader never sees a half-written or unverified export.
    """
    say = progress or (lambda _msg: None)
    model_dir = Path(model_dir)
    say("Exporting the embedding model for fast questions and indexing (one time)...")
    with rebuilt(export_dir(model_dir), is_ours=lambda p: (p / META_FILE).is_file()) as tmp:
        tmp.mkdir()
        meta = _write(model_dir, tmp, fingerprint)
    return meta


def _write(model_dir: Path, out: Path, fingerprint: str) -> dict[str, Any]:
    from index.models import unigram
    from index.models.embedder import Embedder, load_st

    st = load_st(str(model_dir), local=True)
    probe = Embedder(st, str(model_dir), fingerprint)  # the prompt lookup indexing uses
    transformer, pooling = _check_stack(st)
    tensor = _embedding_tensor(model_dir, transformer.auto_model)

    data = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    try:
        before, after = unigram.check_supported(data)
        unigram.write(data, out)
    except unigram.UnsupportedTokenizer as exc:
        raise ExportError(f"tokenizer: {exc}") from None
    _export_graph(transformer.auto_model, out / GRAPH_FILE)
    meta = {
        "export_version": EXPORT_VERSION,
        "fingerprint": fingerprint,
        "dim": probe.dim,
        "max_tokens": int(st.max_seq_length),
        "query_prompt": probe.query_prompt,
        "passage_prompt": probe.passage_prompt,
        "embeddings": {"file": WEIGHTS_FILE, "tensor": tensor},
        "unk_id": int(data["model"]["unk_id"]),
        "pad_id": int(transformer.tokenizer.pad_token_id),
        "before": before,
        "after": after,
        "pooling": pooling,
    }
    meta["parity"] = _check_parity(st, probe, model_dir, out, meta)
    # Written last: its presence marks the export as complete.
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def _check_stack(st) -> tuple[Any, str]:
    """Only Transformer -> mean Pooling -> Normalize is reproduced by the graph."""
    mods = list(st)
    names = [type(m).__name__ for m in mods]
    if names != ["Transformer", "Pooling", "Normalize"]:
        raise ExportError(f"unsupported module stack {names}")
    pooling = mods[1]
    mode = getattr(pooling, "pooling_mode", None) or (
        "mean" if pooling.get_config_dict().get("pooling_mode_mean_tokens") else "other")
    if mode != "mean" or not pooling.get_config_dict().get("include_prompt", True):
        raise ExportError(f"unsupported pooling {mode!r}")
    return mods[0], "mean"


def _embedding_tensor(model_dir: Path, auto_model) -> str:
    """Name of the input-embedding table in the folder's safetensors file (float32)."""
    weight = auto_model.get_input_embeddings().weight
    name = next((n for n, p in auto_model.named_parameters() if p is weight), None)
    header = safetensors_header(model_dir / WEIGHTS_FILE)
    entry = header.get(name or "")
    if entry is None or entry.get("dtype") != "F32" or entry["shape"][1:] != list(weight.shape[1:]):
        raise ExportError(f"input embeddings not stored as float32 '{name}' in {WEIGHTS_FILE}")
    return name


def _export_graph(auto_model, path: Path) -> None:
    """Legacy TorchScript exporter: it handles this BertModel with dynamic batch and length
    (checked by the parity probes, which mix lengths in one padded batch).

    The weights go to a separate file beside the graph (`model.onnx.data`): onnxruntime then
    creates a session with ~0.08 s less CPU than from one 86 MB protobuf (measured in fresh
    processes, 0.11-0.15 s against 0.19-0.23 s), which a cold `qa ask` pays every time.
    """
    import io

    import onnx
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, inputs_embeds, attention_mask):
            out = self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask,
                             output_hidden_states=True)
            hidden = out.last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1), out.hidden_states[TOKEN_STATE_LAYER]

    encoder = Encoder(auto_model).eval()
    dim = auto_model.get_input_embeddings().weight.shape[1]
    sample = (torch.zeros(2, 7, dim), torch.tensor([[1] * 7, [1] * 5 + [0] * 2]))
    axes = {"inputs_embeds": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            SENTENCE_OUTPUT: {0: "batch"}, TOKENS_OUTPUT: {0: "batch", 1: "tokens"}}
    import warnings

    graph = io.BytesIO()
    # Eager attention traces to the pattern onnxruntime's BERT optimizer fuses (`_fused`);
    # the default (sdpa) traces to ~400 small shape operators it cannot. The model object
    # is shared with the parity check, so its setting is put back.
    impl = getattr(auto_model.config, "_attn_implementation", None)
    switch = bool(impl) and impl != "eager" and hasattr(auto_model, "set_attn_implementation")
    try:
        if switch:
            auto_model.set_attn_implementation("eager")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python branches on shapes
            torch.onnx.export(encoder, sample, graph, input_names=["inputs_embeds", "attention_mask"],
                              output_names=[SENTENCE_OUTPUT, TOKENS_OUTPUT], dynamic_axes=axes,
                              opset_version=OPSET, dynamo=False)
    finally:
        if switch:
            auto_model.set_attn_implementation(impl)
    model = _fused(onnx.load_from_string(graph.getvalue()), auto_model.config)
    data = path.with_name(path.name + ".data")
    onnx.save_model(model, str(path), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=data.name)
    shutil.copymode(path, data)  # onnx writes it owner-only; a shared cache must stay readable


def _fused(model, config):
    """The graph with attention, skip-layer-norm and bias-GELU fused by onnxruntime's
    transformer optimizer: one question 10.1 -> 9.0 ms median, session creation 0.14 -> 0.09 s,
    worst cosine to the unfused graph 0.999999 (benchmarks/RESULTS.md, issue 6). A model the
    optimizer does not recognise keeps the plain graph; the parity check judges either."""
    try:
        from onnxruntime.transformers.onnx_model import OnnxModel
        from onnxruntime.transformers.optimizer import optimize_by_fusion
    except ImportError:
        return model
    try:
        fused = optimize_by_fusion(model, model_type="bert",
                                   num_heads=int(config.num_attention_heads),
                                   hidden_size=int(config.hidden_size))
    except Exception:  # an unrecognised graph: the plain export is correct, only slower
        return model
    return fused.model if isinstance(fused, OnnxModel) else model


def _check_parity(st, probe, model_dir: Path, out: Path, meta: dict[str, Any]) -> dict[str, float]:
    """Compare with sentence-transformers on PROBES, singly and as one padded batch."""
    import numpy as np

    from index.models.onnx_encoder import OnnxEncoder

    encoder = OnnxEncoder(model_dir, out, meta, name=probe.name)
    worst = {}
    for side, prompt in (("query", meta["query_prompt"]), ("passage", meta["passage_prompt"])):
        texts = [prompt + t for t in PROBES]
        batch = (st.preprocess if hasattr(st, "preprocess") else st.tokenize)(texts)
        want = [ids[: int(n)] for ids, n in zip(batch["input_ids"].tolist(), batch["attention_mask"].sum(1))]
        if want != [encoder.token_ids(t) for t in texts]:
            raise ExportError(f"tokenizer ids differ from sentence-transformers' ({side} side)")
        ref = probe.embed_queries(PROBES) if side == "query" else probe.embed_passages(PROBES)
        fast = encoder.embed_queries(PROBES) if side == "query" else encoder.embed_passages(PROBES)
        single = np.concatenate([encoder.embed_queries([t]) if side == "query" else encoder.embed_passages([t])
                                 for t in PROBES])
        cos = float(min((ref * fast).sum(1).min(), (ref * single).sum(1).min()))
        if not cos >= PARITY_MIN:
            raise ExportError(f"ONNX embeddings differ from sentence-transformers' ({side}: cosine {cos:.6f})")
        worst[side] = round(cos, 7)
    worst["tokens"] = _check_token_states(probe, encoder)
    return worst


def _check_token_states(probe, encoder) -> float:
    """The graph's token states against sentence-transformers' own, on the probes: same
    pieces, and each state's cosine at least PARITY_MIN."""
    import numpy as np

    worst = 1.0
    for text in PROBES:
        for side in ("query", "passage"):
            ref, fast = probe.token_states(text, side), encoder.token_states(text, side)
            if ref.pieces != fast.pieces:
                raise ExportError(f"token pieces differ from sentence-transformers' ({side} side)")
            worst = min(worst, float(np.min((ref.vectors * fast.vectors).sum(1))))
    if not worst >= PARITY_MIN:
        raise ExportError(f"ONNX token states differ from sentence-transformers' (cosine {worst:.6f})")
    return round(worst, 7)
