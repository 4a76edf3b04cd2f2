"""Running kernel chunks in parallel: every chunk once on either path (torch's OpenMP workers through numba, or
Python threads), the same DTW results on both, from concurrent callers, and in a forked child."""
import multiprocessing
import threading

import numba
import numpy as np
import pytest
import torch
from numba import njit, prange

from gtalign.ops import smooth_dtw, smooth_dtw_table, threads


@njit(nogil=True)
def count_chunk(chunk, hits):
    hits[chunk] += 1


@njit(parallel=True, nogil=True)
def count_all(chunks, hits):
    for chunk in prange(chunks):
        count_chunk(chunk, hits)


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.fixture(params=["openmp", "python threads"])
def path(request, monkeypatch, two_threads):
    if request.param == "openmp":
        if threads.numba_layer() != "omp":
            pytest.skip(f"numba's threading layer is {threads.numba_layer()}, not OpenMP")
    else:
        monkeypatch.setattr(threads, "use_openmp", lambda: False)
    return request.param


@pytest.mark.parametrize("chunks", [1, 2, 5])
def test_every_chunk_runs_once(path, chunks):
    hits = np.zeros(chunks, np.int64)
    numba_threads = numba.get_num_threads()
    threads.run_chunks(count_chunk, count_all, chunks, hits)
    assert hits.tolist() == [1] * chunks
    assert numba.get_num_threads() == numba_threads  # the call's team size is undone


@pytest.mark.parametrize("chunks", [1, 2, 5])
def test_without_a_parallel_loop_chunks_run_once_on_python_threads(two_threads, chunks):
    hits = np.zeros(chunks, np.int64)
    ran_on = set()

    def kernel(chunk, hits):
        ran_on.add(threading.current_thread().name)
        count_chunk(chunk, hits)

    threads.run_chunks(kernel, None, chunks, hits)
    assert hits.tolist() == [1] * chunks
    if chunks > 1:  # the calling thread and a pool thread share the chunks (either may take them all)
        assert ran_on <= {threading.current_thread().name} | {f"gtalign-dtw_{k}" for k in range(4)}


def dtw_case():
    """Three chunks of up to 16 pairs (B = 40) on two threads, 252,000 cells: the parallel path."""
    gen = torch.Generator().manual_seed(3)
    cost = torch.rand(40, 90, 70, generator=gen) * 4
    lengths = (torch.randint(60, 91, (40,), generator=gen), torch.randint(50, 71, (40,), generator=gen))
    return cost, lengths


def values_and_gradients(cost, lengths):
    leaf = cost.clone().requires_grad_(True)
    table = smooth_dtw_table(leaf, 0.1, lengths=lengths)
    score = smooth_dtw(leaf, 0.1, lengths=lengths)
    g_table, = torch.autograd.grad((table.nan_to_num(posinf=0.0) * 0.5).sum(), leaf)
    g_score, = torch.autograd.grad(score.sum(), leaf)
    return table.detach(), score.detach(), g_table, g_score


def test_both_paths_give_identical_dtw_results(monkeypatch, two_threads):
    if threads.numba_layer() != "omp":
        pytest.skip("only one path here")
    cost, lengths = dtw_case()
    openmp = values_and_gradients(cost, lengths)
    monkeypatch.setattr(threads, "use_openmp", lambda: False)
    python_threads = values_and_gradients(cost, lengths)
    for a, b in zip(openmp, python_threads):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_concurrent_callers_get_serial_results(path):
    cost, lengths = dtw_case()
    expected = values_and_gradients(cost, lengths)
    results = [None] * 4

    def work(k):
        results[k] = values_and_gradients(cost, lengths)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    for got in results:
        for a, b in zip(got, expected):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def _child(cost, lengths, queue):
    torch.set_num_threads(1)  # as torch requires after a fork (DataLoader workers do the same)
    queue.put([t.numpy() for t in values_and_gradients(cost, lengths)])


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_a_forked_child_computes_the_same_after_the_parent_ran_in_parallel(two_threads):
    cost, lengths = dtw_case()
    expected = values_and_gradients(cost, lengths)  # the parent uses its parallel path first
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(cost, lengths, queue))
    child.start()
    try:
        got = queue.get(timeout=120)
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b.numpy())
