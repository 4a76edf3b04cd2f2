"""The motion stream (frame differences per horizontal band) and where it joins the fused cost."""
import numpy as np
import pytest

from gtalign.apps.contextual import contextual_cost
from gtalign.apps.features import (
    FALLBACK_MOTION,
    MOTION_BANDS,
    FeatureSpec,
    Person,
    VideoFeatures,
    _Motion,
    stream_cost,
    stream_costs,
)


def motion_of(frames, fps=25.0):
    m = _Motion()
    for f in frames:
        m.add(f)
    return m.result(fps)


def ball_video(t=40, h=72, w=96, seed=0):
    """A still, textured scene with a small bright ball falling from the top to the bottom and back."""
    rng = np.random.default_rng(seed)
    scene = rng.integers(0, 120, (h, w, 3), dtype=np.uint8)
    frames = []
    for k in range(t):
        y = int((h - 8) * abs(np.sin(np.pi * k / t)))
        f = scene.copy()
        f[y:y + 6, 40:46] = 255
        frames.append(f)
    return frames


def test_a_small_moving_ball_shows_in_the_band_it_is_in():
    feats = motion_of(ball_video())
    assert feats.shape == (40, MOTION_BANDS + 1) and feats.dtype == np.float32 and np.isfinite(feats).all()
    bands = feats[:, :MOTION_BANDS]
    top, bottom = bands[1:5].mean(0), bands[18:22].mean(0)  # the ball near the top, then near the bottom
    assert top.argmax() == 0 and bottom.argmax() == MOTION_BANDS - 1


def test_a_mirror_leaves_the_motion_stream_unchanged():
    frames = ball_video(seed=3)
    np.testing.assert_allclose(motion_of(frames), motion_of([f[:, ::-1] for f in frames]), atol=1e-5)


def test_a_still_video_and_a_single_frame_give_finite_zeros():
    still = [np.full((30, 40, 3), 90, np.uint8)] * 5
    np.testing.assert_array_equal(motion_of(still), 0)
    assert motion_of(still[:1]).shape == (1, MOTION_BANDS + 1)


def test_a_frame_of_another_size_does_not_break_the_stream():
    frames = ball_video(t=10)
    frames[5] = frames[5][:40]
    assert motion_of(frames).shape == (10, MOTION_BANDS + 1)


def test_motion_joins_whole_frames_only_in_the_fallback_of_person_specs():
    rng = np.random.default_rng(0)

    def video(t, people):
        return VideoFeatures({"imagenet": rng.normal(size=(t, 3)), "motion": rng.normal(size=(t, 5))}, t,
                             [Person(np.ones(t, bool), {"pose": rng.normal(size=(t, 4)),
                                                        "crop": rng.normal(size=(t, 3))}) for _ in range(people)])

    a, b, c = video(6, 1), video(7, 0), video(8, 1)
    cost, used = stream_costs(FeatureSpec.parse("pose+crop:0.5+imagenet:0.5"), a, b)
    assert used == ["imagenet", "motion"]
    parts = [stream_cost(n, a.streams[n], b.streams[n]) for n in used]
    parts = [p / np.median(p) for p in parts]
    np.testing.assert_allclose(cost, (parts[0] + FALLBACK_MOTION * parts[1]) / (1 + FALLBACK_MOTION))
    assert stream_costs(FeatureSpec.parse("pose+crop:0.5+imagenet:0.5"), a, c)[1] == ["pose", "crop", "imagenet"]
    assert stream_costs(FeatureSpec.parse("imagenet"), a, b)[1] == ["imagenet"]  # asked for appearance only
    assert stream_costs(FeatureSpec.parse("imagenet+motion:2"), a, c)[1] == ["imagenet", "motion"]
    # features saved before the motion stream existed: the fallback is whole-frame appearance alone
    old = VideoFeatures({"imagenet": b.streams["imagenet"]}, 7)
    assert stream_costs(FeatureSpec.parse("pose+crop:0.5"), a, old)[1] == ["imagenet"]


def test_the_smoothing_is_in_seconds():
    """The same motion filmed at 25 and 50 fps gives the same stream at the same instants."""
    frames = ball_video(t=80)
    at50 = motion_of(frames, 50.0)
    at25 = motion_of(frames[::2], 25.0)
    # frame differences over 2 frames are about twice those over 1; the per-video standardisation removes the scale
    assert np.corrcoef(at25[5:-5, -1], at50[10:-10:2, -1])[0, 1] > 0.9


def _walk(t, rng, d=6):
    """A random walk (T, d): frames that change smoothly in time and differ from one another."""
    return np.cumsum(rng.normal(size=(t, d)), axis=0)


def test_align_features_keeps_fallback_motion_only_where_it_shows_the_process_more_clearly():
    from gtalign.apps.align import align_features

    rng = np.random.default_rng(4)
    spec = FeatureSpec.parse("pose+crop:0.5+imagenet:0.5")
    signal, noise = _walk(60, rng), lambda: rng.normal(size=(60, 6))
    a = VideoFeatures({"imagenet": signal + 0.1 * noise(), "motion": noise()}, 60)
    b = VideoFeatures({"imagenet": signal + 0.1 * noise(), "motion": noise()}, 60)
    found = align_features(spec, a, b, 30.0, 30.0)  # motion is noise here: left out
    assert found.streams == ["imagenet"] and found.candidates == 2 and found.z is not None
    a.streams["imagenet"], b.streams["imagenet"] = signal + 3 * noise(), signal + 3 * noise()  # appearance unsure
    a.streams["motion"] = b.streams["motion"] = _walk(60, rng)  # and motion shows the process clearly: kept
    assert align_features(spec, a, b, 30.0, 30.0).streams == ["imagenet", "motion"]
    never = align_features(spec, a, b, 30.0, 30.0, fallback_motion=False)  # as sync asks: never added
    assert never.streams == ["imagenet"] and never.candidates == 1
    # a spec without person streams, or one that names motion, is taken as it is
    assert align_features(FeatureSpec.parse("imagenet"), a, b, 30.0, 30.0).candidates == 1
    assert align_features(FeatureSpec.parse("pose+motion:0.1"), a, b, 30.0, 30.0).candidates == 1


def test_fallback_motion_that_only_raises_a_failing_z_is_left_out():
    """Unrelated videos whose smooth motion matches a little better by chance than their appearance does: motion
    raises z, but not to the same-process threshold, so it must not decide how they are aligned."""
    from gtalign.apps.align import align_features
    from gtalign.apps.sameness import DEFAULT_MIN_Z, sameness_test

    rng = np.random.default_rng(0)
    spec = FeatureSpec.parse("pose+crop:0.5+imagenet:0.5")
    a = VideoFeatures({"imagenet": rng.normal(size=(60, 6)), "motion": _walk(60, rng)}, 60)
    b = VideoFeatures({"imagenet": rng.normal(size=(60, 6)), "motion": _walk(60, rng)}, 60)
    z_with, z_without = (sameness_test(contextual_cost(stream_costs(spec, a, b, None, fallback_motion=m)[0])).z
                         for m in (True, False))  # as align_features sees them
    assert z_without < z_with < DEFAULT_MIN_Z  # the case in question
    found = align_features(spec, a, b, 30.0, 30.0)
    assert found.streams == ["imagenet"] and found.z == pytest.approx(z_without)
