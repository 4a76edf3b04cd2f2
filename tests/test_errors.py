"""Bad input: a clear `gtalign ...: error:` (exit 2) naming the input before any work, or a warning saying what was
used. This file holds the checks on values (check_finite, DP overflow); each other case has its test beside the code
it guards:

- corrupt JPEG inside a frame folder (align, data info):   tests/data/test_corrupt_frames.py
- unusable output locations (align/sync/demo -o, --max-side 0, --frames 0, --gamma, -k, --fit-steps):
                                                           tests/test_argtypes.py
- train.log_dir at a file, data.num_steps below the loss's frames, resume falling back to the newest readable
  checkpoint and warning on a changed config:              tests/train/test_trainer.py
- a truncated video (align, cam, data convert, data info): tests/apps/test_short_videos.py
- malformed config files (top-level list, `data: 5`):      tests/train/test_config.py
- truncated or object-dtype embedding files:               tests/evaluate/test_eval_embeddings.py
- user strings that look like template placeholders:       tests/viz/test_viz_viewer.py
- a track of the wrong length (before encoding), a bad checkpoint, a broken video:
                                                           tests/apps/test_app_commands.py
- --fit on a 1-frame video:                                tests/apps/test_fit_check.py
- the same-process verdict symmetric in argument order:    tests/apps/test_sameness_symmetric.py
- config overrides after options (`--quiet data.root=...`): tests/test_cli.py
"""
import numpy as np
import pytest
import torch

from gtalign.checks import check_finite
from gtalign.errors import GtalignError


@pytest.mark.parametrize("kind", ["torch", "numpy"])
@pytest.mark.parametrize("bad", [[float("nan")], [float("inf")], [-float("inf")], [float("inf"), -float("inf")],
                                 [float("nan"), float("inf"), 1.0]])
def test_non_finite_entries_are_counted_and_named(kind, bad):
    values = torch.zeros(3, 5)
    values.view(-1)[:len(bad)] = torch.tensor(bad)
    arg = values if kind == "torch" else values.numpy()
    count = sum(not np.isfinite(v) for v in bad)
    with pytest.raises(GtalignError, match=rf"my_input contains {count} NaN/Inf"):
        check_finite("my_input", arg)


@pytest.mark.parametrize("values", [
    torch.full((4,), 3e38),  # finite entries whose float32 sum overflows
    torch.tensor([3e38, -3e38, 3e38, 3e38]),
    torch.full((100,), 60000.0, dtype=torch.float16),
    torch.full((100,), 3e38, dtype=torch.bfloat16),
    torch.zeros(0),
    torch.tensor([1.0, -1e-45]),
])
def test_finite_values_pass_even_when_their_sum_overflows(values):
    assert bool(torch.isfinite(values).all())
    check_finite("x", values)
    check_finite("x", values.float().numpy() if values.dtype == torch.bfloat16 else values.numpy())


def test_integers_and_requires_grad_tensors():
    check_finite("ints", torch.arange(5))
    check_finite("ints", np.arange(5))
    leaf = torch.ones(3, requires_grad=True)
    check_finite("leaf", leaf)
    with pytest.raises(GtalignError, match="leaf contains 1"):
        check_finite("leaf", torch.tensor([1.0, float("nan")], requires_grad=True))


@pytest.mark.parametrize("fn", ["smooth_dtw", "smooth_dtw_table", "soft_alignment"])
def test_finite_costs_that_overflow_the_dp_are_refused_not_returned_as_nan(fn):
    from gtalign import ops

    cost = torch.full((4, 5), 3e38)
    with pytest.raises(GtalignError, match=r"cost holds values up to 3e\+38, which overflow float32"):
        getattr(ops, fn)(cost)
    inner = (lambda t: t[1:, 1:]) if fn == "smooth_dtw_table" else (lambda t: t)  # the table's border is inf
    assert torch.isfinite(inner(getattr(ops, fn)(cost.double()))).all()  # float64 has the room
    assert torch.isfinite(inner(getattr(ops, fn)(cost / 1e30))).all()
