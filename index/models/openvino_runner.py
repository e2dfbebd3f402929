"""Run the export's graph over many passages with OpenVINO, in bfloat16 where the CPU has it.

Indexing embeds hundreds of thousands of short texts, and the float32 arithmetic of
onnxruntime and torch alike reaches only about half of what the machine's matrix units can do
on batches this small. A CPU with native bfloat16 matrix instructions (AMX or AVX512-BF16)
multiplies several times faster in bfloat16 with float32 sums, and the pooled, normalised
vectors stay within cosine 0.9999 of float32 (benchmarks/RESULTS.md, issue 19). OpenVINO
runs the graph the questions use (saved once in its own format, with float16 weights) and
picks those instructions itself; onnxruntime's CPU provider has no bfloat16 kernels on x86.

The runner is used only where it is checked to be faithful: the CPU must report bfloat16, and
the probe texts must come out within `PARITY_MIN` of onnxruntime's float32 vectors on this
machine, at load. Otherwise `load_runner` says why and the caller keeps onnxruntime.
`QA_PASSAGE_RUNTIME=onnxruntime` turns it off; `=openvino` uses it even in float32.

Only the standard library is imported at module level.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from index.heap import hand_back_free_memory
from index.models.interrupts import deferred_interrupts
from index.models.export_format import GRAPH_FILE, SENTENCE_OUTPUT, TOKENS_OUTPUT

if TYPE_CHECKING:
    import numpy as np

ENV_RUNTIME = "QA_PASSAGE_RUNTIME"
IR_DIRNAME, IR_FILE = "openvino-f16", "model.xml"  # inside the export's folder
ONNXRUNTIME, OPENVINO = "onnxruntime", "openvino"

# One batch: its token ids padded to one width (rows x width), and its rows' places in the output.
Batch = tuple[list[int], "np.ndarray", "np.ndarray"]


class RunnerUnavailable(RuntimeError):
    """OpenVINO is missing, the CPU lacks bfloat16, or the result strayed from float32."""


class OpenVinoRunner:
    """The compiled graph and a queue of parallel requests (one per stream OpenVINO chose).

    OpenVINO keeps the buffers of every input shape it has run for as long as the compiled
    model lives, and the widths of a whole index's batches add up to gigabytes (8,000 IndoSum
    texts: 1.1 GB). Batches come shortest first, so the model is compiled afresh (0.6 s)
    whenever they move to the next width band, and only one band's buffers are ever held."""

    def __init__(self, compile_model: Callable[[], Any], precision: str) -> None:
        self.precision = precision
        self._compile_model = compile_model
        self._compiled = self._queue = self._output = self._tokens = None
        self._band = -1

    def __repr__(self) -> str:
        return f"OpenVinoRunner(precision={self.precision!r})"

    def _open(self, band: int) -> None:
        import openvino as ov

        self.close()
        self._compiled = self._compile_model()
        self._output = self._compiled.output(SENTENCE_OUTPUT)
        self._tokens = self._compiled.output(TOKENS_OUTPUT)
        jobs = max(1, int(self._compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
        self._queue = ov.AsyncInferQueue(self._compiled, jobs)
        self._band = band

    def close(self) -> None:
        """Let go of the compiled model and every buffer it kept."""
        if self._queue is not None:
            self._queue.wait_all()
        self._compiled = self._queue = self._output = self._tokens = None
        self._band = -1
        hand_back_free_memory()

    def run(self, batches: Iterable[Batch], out: np.ndarray,
            on_batch: Callable[[int], None] | None = None,
            on_states: Callable[[list[int], np.ndarray], None] | None = None) -> None:
        """Fill `out`'s rows from the batches, several in flight at once. `on_batch` gets the
        number of rows finished so far; it is called on this thread. `on_states` gets each
        batch's rows and their token states (the graph's second output), before the request's
        buffers are reused."""
        done = [0]

        def store(request, rows) -> None:  # on OpenVINO's thread, holding the GIL
            out[rows] = request.get_tensor(self._output).data[: len(rows)]
            if on_states is not None:
                on_states(rows, request.get_tensor(self._tokens).data[: len(rows)])
            done[0] += len(rows)

        # Ctrl+C is held while requests are in flight (see index.models.interrupts): it stops
        # the next batch, the queue drains, and only then is KeyboardInterrupt raised.
        with deferred_interrupts() as interrupted:
            try:
                for rows, embeds, mask in batches:
                    if interrupted():
                        break
                    band = _band(embeds.shape[1])
                    if band != self._band:
                        self._open(band)
                        self._queue.set_callback(store)
                    self._queue.start_async({"inputs_embeds": embeds, "attention_mask": mask}, rows)
                    if on_batch is not None:
                        on_batch(done[0])
            finally:
                self.close()  # waits for every request in flight, whatever ended the loop
        if on_batch is not None:
            on_batch(done[0])


def _band(width: int) -> int:
    """Widths 1-32, 33-64, 65-128, ...: the groups of shapes one compiled model serves."""
    return max(0, (width - 1).bit_length() - 5)


def wanted_runtime() -> str | None:
    """What `QA_PASSAGE_RUNTIME` asks for, or None to decide by the CPU."""
    value = os.environ.get(ENV_RUNTIME, "").strip().lower()
    return value if value in (ONNXRUNTIME, OPENVINO) else None


def _openvino_graph(export_dir: Path, core: Any) -> str:
    """The export's graph in OpenVINO's own format with float16 weights, written beside the
    export at the first load (about 1 s): a compile maps its 43 MB of weights from the file,
    where one from the ONNX graph reads the 86 MB of float32 weights and converts them, which
    held 120 MB more for every compiled model (benchmarks/RESULTS.md, issue 19). The parity
    check judges the result either way. Where it cannot be written (a read-only cache), the
    ONNX graph is compiled instead. A new export replaces the folder it lives in, so it is
    never older than its source."""
    import openvino as ov
    from filelock import FileLock, Timeout

    from index.models.folder_swap import rebuilt

    folder = export_dir / IR_DIRNAME
    graph = folder / IR_FILE
    if graph.is_file():
        return str(graph)
    try:
        with FileLock(str(export_dir / (IR_DIRNAME + ".lock")), timeout=120):
            if not graph.is_file():  # else another process wrote it while we waited
                with rebuilt(folder) as tmp:
                    tmp.mkdir()
                    model = core.read_model(str(export_dir / GRAPH_FILE))
                    ov.save_model(model, str(tmp / IR_FILE), compress_to_fp16=True)
    except (OSError, RuntimeError, Timeout):
        return str(export_dir / GRAPH_FILE)
    return str(graph)


def load_runner(export_dir: Path, check: Callable[[OpenVinoRunner], float]) -> OpenVinoRunner:
    """The graph compiled for this CPU, after `check` (the worst cosine against float32 on
    probe texts) passed. Raises RunnerUnavailable with the reason otherwise."""
    from index.models.export_format import PARITY_MIN

    asked = wanted_runtime()
    if asked == ONNXRUNTIME:
        raise RunnerUnavailable(f"{ENV_RUNTIME}={ONNXRUNTIME}")
    try:
        import openvino as ov
    except ImportError:
        raise RunnerUnavailable("OpenVINO is not installed") from None
    core = ov.Core()
    native = "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    if not native and asked != OPENVINO:
        raise RunnerUnavailable("this CPU has no bfloat16 instructions")
    precision = "bf16" if native else "f32"
    graph = _openvino_graph(Path(export_dir), core)  # read at each compile: holding it costs 90 MB
    config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "THROUGHPUT",
              "CPU_RUNTIME_CACHE_CAPACITY": "0"}
    runner = OpenVinoRunner(lambda: core.compile_model(graph, "CPU", config), precision)
    try:
        worst = check(runner)
    except RuntimeError as exc:  # an op this OpenVINO does not know: onnxruntime runs it
        raise RunnerUnavailable(f"OpenVINO cannot run the export ({exc})") from None
    if not worst >= PARITY_MIN:
        raise RunnerUnavailable(f"its {precision} vectors differ from float32 (cosine {worst:.6f})")
    return runner
