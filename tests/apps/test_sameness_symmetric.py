"""The same-process verdict does not depend on which video is given first."""
import numpy as np

from gtalign.apps.sameness import sameness_test


def test_verdict_is_symmetric_for_very_different_lengths():
    t = np.linspace(0, 1, 3000)
    a = np.stack([np.sin(6 * t), np.cos(9 * t)], 1)
    b = a[::600][:5]  # 5 frames of the same motion
    cost = ((a[:, None] - b[None]) ** 2).sum(-1)
    one, other = sameness_test(cost), sameness_test(cost.T)
    assert one.z == other.z and one.same_process == other.same_process
    c = ((a[::30][:, None] - a[::30][None]) ** 2).sum(-1)  # a video against itself: clearly the same
    assert sameness_test(c).same_process
