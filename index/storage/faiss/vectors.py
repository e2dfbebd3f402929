"""Which FAISS index holds an index's vectors, chosen by how many there are.

Exact search (IndexIDMap2 over IndexFlatIP) scans every vector per question: exact and
simple, but its cost grows with the corpus, so past `flat_max()` vectors (measured in
benchmarks/scale_1m.py: where a flat scan stops fitting a 20 ms question) the vectors move to
an inverted file of 4-bit product-quantizer codes scanned with SIMD ("fast scan":
IndexIVFPQFastScan, inner product, residuals encoded, half a byte per two dimensions).
Those codes only pick candidates: the store keeps every vector in SQLite as float16 and
rescores the candidates from there (Store.search_dense, Store.view_scores), so the ranking is
exact to float16 while the part held in memory costs 96 bytes a vector. That is what lets a
million paragraphs (about five million vectors with their word windows) stay under 1 GB
resident; the 8-bit scalar codes used before (IndexIVFScalarQuantizer, still read, and
migrated on the next write) needed 2.2 GB for them and scanned three times slower.
IVF rather than HNSW because the store needs remove_ids (an edited article drops its old
vectors), which HNSW in FAISS lacks.

IVF is trained on the stored vectors themselves when an index crosses the threshold, and
retrained when it has grown so much that its lists got long (`nlist_for`). Every change of
layout happens in `migrate`, which the store calls just before it writes a new generation file:
a process killed while migrating has written nothing the manifest names, so the previous
generation stays the committed one.

The layout is read off the index itself (its FAISS type and nlist), never stored beside it,
so a file and its description cannot disagree.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    import faiss
    import numpy as np

FLAT = "flat"
IVF_SQ8 = "ivf-sq8"  # written by qa before the float16 vectors table; read, then migrated
IVF_PQ = "ivf-pq"
ENV_FLAT_MAX = "QA_FLAT_MAX_VECTORS"
# Dev-set pools (at most 62k vectors) stay exact; IndoSum (180k) does not: a flat scan of it
# took 60-100 ms per question here. See benchmarks/RESULTS.md, "Scale".
DEFAULT_FLAT_MAX = 100_000
_MAX_NLIST = 16_384
_MIN_PER_LIST = 39  # FAISS k-means warns below this many training points per centroid
_TRAIN_PER_LIST = 50  # training on more than this per centroid buys little
# Question embeddings sit apart from passage embeddings, so a question's nearest passages
# spread over many lists: probing a third of them gave recall@10 0.978 vs exact on 101k real
# dev-set vectors (a quarter: 0.968). Codes scan so much faster than float32 that this
# still beats a flat scan by an order of magnitude.
_NPROBE_SHARE = 3
# Two dimensions per 4-bit sub-quantizer: on 175k real dev-set vectors, rescoring the 400
# best by their float16 vectors found 0.980 of the exact top 10 (one dimension per byte,
# PQ96x4: 0.927; 8-bit scalar codes without rescoring: 0.978 at three times the scan time).
_DIMS_PER_SUBQUANTIZER = 2
_RESCORE_BASE = 400  # candidates rescored at least: found 0.980 of the top 10 at 175k


def rescore_depth(n: int) -> int:
    """How many candidates the codes pick for rescoring in an index of n vectors, whatever k.
    More vectors crowd more near-misses around a question: rescoring 400 found 0.992 of the
    exact top 10 at 180k, 0.973 at 1M and 0.944 at 5M; 1,000 found 0.986 at 1M and 2,236
    found 0.989 at 5M (benchmarks/scale_1m.py, RESULTS.md). Each rescored candidate costs a
    float16 row read from SQLite, about 3 microseconds."""
    return max(_RESCORE_BASE, round(1000 * math.sqrt(n / 1e6)))
_KMEANS_ITER = 12
_ADD_CHUNK = 16_384  # vectors read or added at a time: 25 MB as float32


@dataclass(frozen=True)
class Layout:
    """What kind of FAISS index, and for IVF how many lists."""

    kind: str
    nlist: int = 0

    def __str__(self) -> str:
        return self.kind if self.kind == FLAT else f"{self.kind} nlist={self.nlist}"


# The fewest vectors QA_FLAT_MAX_VECTORS may keep exact. Past the limit the index trains 4-bit
# codes (16 centroids per part) on its own vectors, and k-means wants `_MIN_PER_LIST` points a
# centroid: below that FAISS warns on every commit, and below 16 points it cannot train at all.
FLAT_MAX_MIN = 16 * _MIN_PER_LIST


def flat_max() -> int:
    """The largest vector count kept exact; the environment may lower it (tests do). A value
    that is no whole number, or below FLAT_MAX_MIN, is a UserError naming the variable."""
    from index.settings import env_count

    value = env_count(ENV_FLAT_MAX, FLAT_MAX_MIN, "the compressed index used past it trains "
                      "on at least that many vectors")
    return DEFAULT_FLAT_MAX if value is None else value


def nlist_for(n: int) -> int:
    """About 4*sqrt(n) lists, a power of two: at a fixed share of lists probed, finer lists
    found more of the exact top 10 (1024 lists: 0.978 at a third, 256 lists: 0.963), and
    k-means cost, paid once per migration, is what limits going finer."""
    nlist = min(_MAX_NLIST, 2 ** round(math.log2(4 * math.sqrt(max(n, 1)))))
    while nlist > 1 and nlist * _MIN_PER_LIST > n:
        nlist //= 2
    return nlist


def nprobe_for(nlist: int) -> int:
    return max(1, -(-nlist // _NPROBE_SHARE))


def layout_of(index: faiss.Index) -> Layout:
    import faiss

    if isinstance(index, faiss.IndexIDMap2):
        return Layout(FLAT)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None and isinstance(index, faiss.IndexIVFPQFastScan):
        return Layout(IVF_PQ, int(ivf.nlist))
    if ivf is not None and isinstance(index, faiss.IndexIVFScalarQuantizer):
        return Layout(IVF_SQ8, int(ivf.nlist))
    raise ValueError(f"unsupported FAISS index type {type(index).__name__}")


def wanted(n: int, current: Layout, limit: int | None = None) -> Layout:
    """The layout for n vectors. Hysteresis on both edges, so an index hovering around the
    threshold does not retrain on every commit: back to exact only below half the threshold,
    retrain only when the ideal nlist has grown fourfold (about 16 times the vectors)."""
    limit = flat_max() if limit is None else limit
    if current.kind == FLAT:
        return current if n <= limit else Layout(IVF_PQ, nlist_for(n))
    if n < limit // 2:
        return Layout(FLAT)
    ideal = nlist_for(n)
    if current.kind != IVF_PQ or ideal >= 4 * current.nlist:
        return Layout(IVF_PQ, ideal)
    return current


def holds_exact(index: faiss.Index) -> bool:
    """Whether the index can give back the vectors it was given (to float32 rounding);
    otherwise the store reads them from its float16 table."""
    return layout_of(index).kind == FLAT


def empty(dim: int) -> faiss.Index:
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


@dataclass(frozen=True)
class Migration:
    """A move to another layout: what to build, and the ids it must hold."""

    target: Layout
    dim: int
    keys: np.ndarray


def migration(index: faiss.Index, limit: int | None = None) -> Migration | None:
    """The move `index`'s size calls for, or None when its layout still fits. The caller
    may let go of `index` before `migrate` builds the new one: a flat index at the threshold
    is 150 MB, and the store's writer reloads the committed file if the migration fails."""
    import numpy as np

    target = wanted(int(index.ntotal), layout_of(index), limit)
    if target == layout_of(index):
        return None
    return Migration(target, int(index.d), np.sort(ids(index)))


def migrate(move: Migration, vectors: Callable[[np.ndarray], np.ndarray]) -> faiss.Index:
    """A new index of `move.target` holding `move.keys`. `vectors(ids)` gives the stored
    vectors for ids (the store's float16 table: PQ codes cannot be decoded back to what they
    approximate). Vectors are read a chunk at a time, so a migration never holds a float32
    copy of them all (1.5 GB per million), only its training sample."""
    import numpy as np

    keys = move.keys
    sample = None
    if move.target.kind != FLAT:
        rows = keys[np.sort(training_rows(len(keys), move.target))]
        sample = np.empty((len(rows), move.dim), dtype=np.float32)
        for start in range(0, len(rows), _ADD_CHUNK):
            sample[start:start + _ADD_CHUNK] = _unit(vectors(rows[start:start + _ADD_CHUNK]))
    fresh = new(move.target, move.dim, sample)
    del sample
    for chunk in _chunks(keys):
        fresh.add_with_ids(_unit(vectors(chunk)), chunk)
    return fresh


def build(layout: Layout, dim: int, ids: np.ndarray, vecs: np.ndarray) -> faiss.Index:
    """A new index of `layout` holding unit vectors `vecs` under `ids` (IVF trained on them)."""
    import numpy as np

    ids = np.ascontiguousarray(ids, dtype=np.int64)
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    sample = None if layout.kind == FLAT else vecs[np.sort(training_rows(len(vecs), layout))]
    index = new(layout, dim, sample)
    for start in range(0, len(ids), _ADD_CHUNK):
        index.add_with_ids(vecs[start:start + _ADD_CHUNK], ids[start:start + _ADD_CHUNK])
    return index


def new(layout: Layout, dim: int, sample: np.ndarray | None) -> faiss.Index:
    """An empty index of `layout`, IVF lists and codes trained on unit vectors `sample`."""
    import faiss

    if layout.kind == FLAT:
        return empty(dim)
    if layout.kind != IVF_PQ or dim % _DIMS_PER_SUBQUANTIZER:
        raise ValueError(f"cannot build a {layout} index of {dim} dimensions")
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFPQFastScan(quantizer, dim, layout.nlist, dim // _DIMS_PER_SUBQUANTIZER,
                                     4, faiss.METRIC_INNER_PRODUCT)
    index.own_fields = True
    quantizer.this.disown()
    index.cp.niter = _KMEANS_ITER
    index.train(sample)
    return tune(index)


def training_rows(n: int, layout: Layout) -> np.ndarray:
    """Which of n vectors train an index of `layout` (a seeded sample: enough per list)."""
    import numpy as np

    size = min(n, layout.nlist * _TRAIN_PER_LIST)
    return np.random.default_rng(n).choice(n, size, replace=False)


def _unit(vecs: np.ndarray) -> np.ndarray:
    # Vectors read back from float16 (or decoded from old 8-bit codes) are slightly off
    # unit length; coding them again, or exact search over them, expects unit length.
    import numpy as np

    return np.ascontiguousarray(vecs / np.linalg.norm(vecs, axis=1, keepdims=True),
                                dtype=np.float32)


def _chunks(keys: np.ndarray):
    for start in range(0, len(keys), _ADD_CHUNK):
        yield keys[start:start + _ADD_CHUNK]


def search(index: faiss.Index, q: np.ndarray, depth: int,
           stored: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
           selector: faiss.IDSelector | None = None, probe_all: bool = False,
           ) -> tuple[np.ndarray, np.ndarray, bool]:
    """(ids, cosines) of the `depth` nearest vectors to unit query `q` (1, d), best first, and
    whether searching deeper could find more. An index of codes needs `stored(ids)`, giving
    (ids still stored, their vectors): the codes pick candidates, their vectors rank them.
    `selector` (see `selector`) keeps only the ids it holds; `probe_all` makes an IVF search
    visit every list, for a filter whose few passing vectors the usual lists may not hold."""
    import numpy as np

    scores, found = index.search(q, depth, params=_params(index, selector, probe_all))
    hit = found[0] != -1
    keys, sims = found[0][hit], scores[0][hit]
    # An IVF search can only return what its probed lists hold (the rest is -1).
    exhausted = depth >= index.ntotal or found[0][-1] == -1
    if not holds_exact(index) and len(keys):
        if stored is None:
            raise ValueError(f"a {layout_of(index)} index needs the stored vectors to rank")
        keys, vecs = stored(keys)
        sims = vecs @ q[0]
        order = np.argsort(-sims, kind="stable")
        keys, sims = keys[order], sims[order]
    return keys, sims, exhausted


def selector(keys: np.ndarray) -> faiss.IDSelector:
    """A FAISS id selector holding `keys` (the views a filter lets through)."""
    import faiss
    import numpy as np

    return faiss.IDSelectorBatch(np.ascontiguousarray(keys, dtype=np.int64))


def probes_all(index: faiss.Index) -> bool:
    """Whether a search already visits every vector (exact search, or an IVF probing all)."""
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    return ivf is None or ivf.nprobe >= ivf.nlist


def _params(index: faiss.Index, sel: faiss.IDSelector | None, probe_all: bool):
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    if sel is None and (ivf is None or not probe_all):
        return None
    if ivf is None:
        return faiss.SearchParameters(sel=sel)
    return faiss.SearchParametersIVF(sel=sel, nprobe=int(ivf.nlist if probe_all else ivf.nprobe))


def tune(index: faiss.Index) -> faiss.Index:
    """Search settings are not trusted from the file, so a retuned qa applies to old indexes."""
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = nprobe_for(int(ivf.nlist))
        # qa searches one question at a time, and FAISS's default spreads a batch's queries
        # over threads: one question ran on one core. Mode 1 splits the probed lists instead.
        ivf.parallel_mode = 1
    return index


def ids(index: faiss.Index) -> np.ndarray:
    """Every id stored, in storage order."""
    import faiss
    import numpy as np

    if isinstance(index, faiss.IndexIDMap2):
        return faiss.vector_to_array(index.id_map).astype(np.int64, copy=False)
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    parts = []
    for lst in range(ivf.nlist):
        size = lists.list_size(lst)
        if size:
            parts.append(faiss.rev_swig_ptr(lists.get_ids(lst), size).copy())
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def norms(index: faiss.Index, keys: np.ndarray) -> np.ndarray:
    """Length of each stored vector, decoded a chunk at a time."""
    import numpy as np

    parts = [np.linalg.norm(index.reconstruct_batch(chunk), axis=1) for chunk in _chunks(keys)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def read(path: Path, *, mmap: bool) -> faiss.Index:
    """Load a generation file. Read-only users map it instead of copying it: opening the
    IndoSum index drops from a few hundred ms to a few ms, and the page cache is shared by
    every reader. A writer later unlinking the file does not disturb a mapping.
    Raises FileNotFoundError for a missing file, RuntimeError for an unreadable one."""
    import faiss

    flags = (faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY) if mmap else 0
    fd = os.open(path, os.O_RDONLY)  # FileNotFoundError here, not a bare RuntimeError below
    try:
        # Through the descriptor, so a writer renaming or unlinking the name meanwhile
        # cannot make us read some other file.
        name = f"/proc/self/fd/{fd}" if _has_proc() else str(path)
        return tune(faiss.read_index(name, flags))
    finally:
        os.close(fd)


def _has_proc() -> bool:
    return os.path.isdir("/proc/self/fd")


def write(index: faiss.Index, f) -> None:
    """Serialize into an open binary file (the caller owns fsync and the rename)."""
    import faiss

    # Streamed: a serialized copy of a 1M-vector index would double the writer's memory.
    faiss.write_index(index, faiss.PyCallbackIOWriter(f.write))
