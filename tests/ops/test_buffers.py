"""The scratch-array pool of the numba DTW: reuse only after the owner is gone, bounded, thread-safe; and the DTW
derivatives it lends are never overwritten by a later forward before their backward ran."""
import gc
import threading

import numpy as np
import pytest
import torch

from gtalign.ops import smooth_dtw, smooth_dtw_table
from gtalign.ops.buffers import BufferPool
from gtalign.ops.dtw_numba import SCRATCH


class Owner:
    """Stands for the autograd state that borrows an array."""


def address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def test_lent_array_is_reused_only_after_its_owner_is_collected():
    pool = BufferPool(max_bytes=1 << 30, min_bytes=0)
    owner = Owner()
    first = pool.lend(owner, (4, 250), np.float32)
    assert first.shape == (4, 250) and first.dtype == np.float32
    first[...] = 7.0
    second = pool.lend(Owner(), (1000,), np.float32)  # its owner dies at once: back to the pool
    assert not np.shares_memory(first, second)
    third = pool.lend(Owner(), (1000,), np.float32)
    assert address(third) == address(second) and not np.shares_memory(first, third)
    assert bool((first == 7.0).all())
    del owner
    fourth = pool.lend(Owner(), (10, 100), np.float32)
    assert address(fourth) in (address(first), address(second))


def test_owner_in_a_reference_cycle_returns_its_array_when_the_cycle_is_collected():
    pool = BufferPool(max_bytes=1 << 30, min_bytes=0)
    owner = Owner()
    owner.me = owner
    lent_at = address(pool.lend(owner, (100,), np.float64))
    del owner
    assert pool.idle_bytes() == 0
    gc.collect()
    assert pool.idle_bytes() == 800
    assert address(pool.lend(Owner(), (100,), np.float64)) == lent_at


def test_scratch_returns_at_the_end_of_its_block():
    pool = BufferPool(max_bytes=1 << 30, min_bytes=0)
    with pool.scratch((8, 8), np.float64) as a:
        with pool.scratch((64,), np.float64) as b:
            assert not np.shares_memory(a, b)
        at = address(b)
    with pool.scratch((2, 32), np.float64) as c:
        assert address(c) in (at, address(a))
    assert pool.idle_bytes() == 2 * 64 * 8


def test_dtype_size_window_and_smallest_fit():
    pool = BufferPool(max_bytes=1 << 30, min_bytes=0, slack=2.0)
    at = {}
    with pool.scratch((100,), np.float32) as a, pool.scratch((150,), np.float32) as b, \
            pool.scratch((1000,), np.float32) as c:
        at = {100: address(a), 150: address(b), 1000: address(c)}
    with pool.scratch((100,), np.float64) as other_dtype:  # no float64 array idle: a new one
        assert address(other_dtype) not in at.values() and pool.idle_bytes() == 4 * (100 + 150 + 1000)
    with pool.scratch((90,), np.float32) as small:  # 100 and 150 fit (<= 180): the smaller one
        assert address(small) == at[100] and small.shape == (90,)
        with pool.scratch((400,), np.float32) as big:  # nothing between 400 and 800 elements: a new array
            assert address(big) not in at.values() and big.size == 400
            assert pool.idle_bytes() == 4 * (150 + 1000) + 800


def test_idle_bytes_stay_under_the_bound_dropping_the_oldest_first():
    pool = BufferPool(max_bytes=1000, min_bytes=0)
    for size in (100, 101, 102):  # 400 + 404 + 408 bytes: the first goes
        with pool.scratch((size,), np.float32):
            pass
    assert pool.idle_bytes() == 404 + 408
    with pool.scratch((100,), np.float32) as a:
        assert a.size == 100 and pool.idle_bytes() == 408  # the 101-element array, now lent
    with pool.scratch((300,), np.float32):  # 1200 bytes: more than the bound, never kept
        pass
    assert pool.idle_bytes() <= 1000
    pool.clear()
    assert pool.idle_bytes() == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_arrays_start_on_a_cache_line(dtype):
    pool = BufferPool(max_bytes=1 << 30, min_bytes=0)
    for size in (1, 3, 1000, 12345):
        assert address(pool.lend(Owner(), (size,), dtype)) % 64 == 0
        with pool.scratch((size, 2), dtype) as a:
            assert address(a) % 64 == 0


def test_small_requests_bypass_the_pool():
    pool = BufferPool(max_bytes=1 << 30, min_bytes=4096)
    with pool.scratch((1023,), np.float32):
        pass
    pool.lend(Owner(), (10,), np.float32)
    assert pool.idle_bytes() == 0
    with pool.scratch((1024,), np.float32):
        pass
    assert pool.idle_bytes() == 4096
    with pool.scratch((0, 5), np.float32) as empty:
        assert empty.shape == (0, 5)


def test_concurrent_borrowers_never_share_memory():
    pool = BufferPool(max_bytes=1 << 20, min_bytes=0)
    errors = []

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        held = []
        for step in range(300):
            size = int(rng.integers(50, 120))
            owner = Owner()
            a = pool.lend(owner, (size,), np.float64)
            a[...] = seed
            held.append((owner, a))
            if len(held) > 3:
                held.pop(int(rng.integers(0, len(held))))
            with pool.scratch((size,), np.float64) as s:
                s[...] = -1.0
                if any(np.shares_memory(s, h) for _, h in held):
                    errors.append("scratch aliases a lent array")
            if any(not bool((h == seed).all()) for _, h in held):
                errors.append(f"thread {seed}: a lent array was overwritten at step {step}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# --- the DTW derivatives lent by the pool ---

def pooled_case(seed: int, dtype=torch.float32) -> torch.Tensor:
    """A cost whose derivatives are large enough to come from the pool (B = 4, 96 x 96: 442 KB in float32)."""
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(4, 96, 96, generator=gen, dtype=torch.float64) * 5).to(dtype)


def fresh_gradient(cost: torch.Tensor, table: bool) -> torch.Tensor:
    leaf = cost.clone().requires_grad_(True)
    out = smooth_dtw_table(leaf, 0.1) if table else smooth_dtw(leaf, 0.1)
    (out[:, 1:, 1:].sum() if table else out.sum()).backward()
    return leaf.grad


def derivatives(out: torch.Tensor) -> np.ndarray:
    """The stored derivatives of the numba call that produced ``out`` (its autograd node is the context)."""
    return out.grad_fn.state.d


@pytest.mark.parametrize("table", [False, True])
@pytest.mark.parametrize("order", ["first_then_second", "second_then_first"])
def test_two_forwards_then_two_backwards_match_separate_calls(table, order):
    costs = [pooled_case(1), pooled_case(2)]
    expected = [fresh_gradient(c, table) for c in costs]
    gc.collect()  # the expected calls' derivatives are idle in the pool now, ready to be (wrongly) reused
    assert SCRATCH.idle_bytes() > 0
    leaves = [c.clone().requires_grad_(True) for c in costs]
    outs = [smooth_dtw_table(leaf, 0.1) if table else smooth_dtw(leaf, 0.1) for leaf in leaves]
    assert not np.shares_memory(derivatives(outs[0]), derivatives(outs[1]))
    for k in ([0, 1] if order == "first_then_second" else [1, 0]):
        (outs[k][:, 1:, 1:].sum() if table else outs[k].sum()).backward()
    for leaf, grad in zip(leaves, expected):
        torch.testing.assert_close(leaf.grad, grad, rtol=0, atol=0)


def test_retained_graph_backward_twice_with_forwards_in_between():
    cost = pooled_case(3)
    expected = fresh_gradient(cost, table=False)
    leaf = cost.clone().requires_grad_(True)
    score = smooth_dtw(leaf, 0.1)
    score.sum().backward(retain_graph=True)
    first = leaf.grad.clone()
    for seed in (4, 5):  # other forwards (and backwards) of the same shape while the graph is retained
        fresh_gradient(pooled_case(seed), table=False)
    leaf.grad = None
    score.sum().backward()
    torch.testing.assert_close(first, expected, rtol=0, atol=0)
    torch.testing.assert_close(leaf.grad, expected, rtol=0, atol=0)


def test_derivatives_come_back_to_the_pool_when_the_graph_is_freed():
    SCRATCH.clear()
    leaf = pooled_case(6).requires_grad_(True)
    score = smooth_dtw(leaf, 0.1)
    lent_at = address(derivatives(score))
    score.sum().backward()
    held = smooth_dtw(pooled_case(7).requires_grad_(True), 0.1)  # graph still alive: needs other memory
    assert address(derivatives(held)) != lent_at
    del score
    again = smooth_dtw(pooled_case(8).requires_grad_(True), 0.1)
    assert address(derivatives(again)) == lent_at


def test_forwards_in_two_python_threads_match_serial_calls():
    costs = [pooled_case(seed, torch.float64) for seed in range(10, 16)]
    expected = [fresh_gradient(c, table=True) for c in costs]
    results = [None] * len(costs)

    def work(indices):
        for k in indices:
            results[k] = fresh_gradient(costs[k], table=True)

    threads = [threading.Thread(target=work, args=(range(start, len(costs), 2),)) for start in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
