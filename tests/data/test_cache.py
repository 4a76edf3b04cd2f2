"""The frame cache: decode once at a chosen size, same frames as the source, invalidated when the video changes."""
import os

import numpy as np

from gtalign.data import open_source
from gtalign.data.cache import CachedSource
from gtalign.data.video import resize_short_side, write_video


def test_cache_decodes_once_and_matches_source(tmp_path):
    clip = np.zeros((6, 32, 48, 3), np.uint8)
    clip[:, :, :, 2] = (30 * np.arange(6))[:, None, None]
    write_video(tmp_path / "v" / "a.mp4", clip, fps=10)
    source = open_source(tmp_path / "v")
    calls = []
    original = source.read_frames
    source.read_frames = lambda i, idx=None: calls.append(i) or original(i, idx)
    cached = CachedSource(source, tmp_path / "cache", size=16)
    assert cached.prepare() == 1 and calls == [0]
    expected = resize_short_side(original(0), 16)
    assert expected.shape == (6, 16, 24, 3)
    np.testing.assert_array_equal(cached.read_frames(0), expected)
    np.testing.assert_array_equal(cached.read_frames(0, [5, 1]), expected[[5, 1]])
    np.testing.assert_array_equal(np.stack(list(cached.iter_frames(0, [1, 5]))), expected[[1, 5]])
    assert calls == [0] and cached.prepare() == 0  # served from disk
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1
    assert cached.entries is source.entries and len(cached) == 1
    # touching the video changes its key: decoded again
    st = os.stat(tmp_path / "v" / "a.mp4")
    os.utime(tmp_path / "v" / "a.mp4", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    cached.read_frames(0, [0])
    assert calls == [0, 0] and len(list((tmp_path / "cache").glob("*.npy"))) == 2
