"""Pose descriptors: left/right swap invariance, track checks, gap filling and the model_complexity refusal."""
from __future__ import annotations

import numpy as np
import pytest

from gtalign.apps import pose
from gtalign.errors import GtalignError

SWAP = np.arange(33)
for left, right in ((11, 12), (13, 14), (15, 16), (17, 18), (19, 20), (21, 22), (23, 24), (25, 26), (27, 28),
                    (29, 30), (31, 32), (1, 4), (2, 5), (3, 6), (7, 8), (9, 10)):
    SWAP[left], SWAP[right] = right, left


def _track(t: int = 40, seed: int = 0) -> pose.PoseTrack:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(33, 3)) * 0.3
    phase = np.linspace(0, 2 * np.pi, t)[:, None, None]
    world = base[None] + 0.1 * np.sin(phase + rng.uniform(0, 6, size=(1, 33, 3)))
    image = 200 + 100 * world[..., :2]
    return pose.PoseTrack(world=world, image=image, detected=np.ones(t, bool), valid=np.ones(t, bool))


@pytest.mark.parametrize("value", [0, 2])
def test_models_that_download_are_refused(value):
    with pytest.raises(GtalignError, match="model_complexity must be 1"):
        pose.check_model_complexity(value)


def test_descriptors_do_not_change_when_left_and_right_swap():
    track = _track()
    swapped = pose.PoseTrack(world=track.world[:, SWAP], image=track.image[:, SWAP], detected=track.detected,
                             valid=track.valid)
    np.testing.assert_allclose(pose.pose_descriptors(swapped), pose.pose_descriptors(track), atol=1e-9)


def test_features_ignore_a_constant_bias_of_one_camera():
    """Per-video centring: a camera that adds a constant to every descriptor gives the same features."""
    track = _track()
    f = pose.pose_features(track, fps=30)
    desc = pose.pose_descriptors(track)
    biased = pose.normalise_per_video(desc + 3.0)
    np.testing.assert_allclose(biased, pose.normalise_per_video(desc), atol=1e-9)
    assert f.shape == (40, 2 * desc.shape[1]) and np.isfinite(f).all()


def test_a_jump_to_a_bystander_is_dropped():
    t = 30
    image = np.zeros((t, 33, 2))
    image[:] = np.random.default_rng(0).uniform(0, 100, size=(33, 2))  # the main person, 100 px tall
    image[12:16] += 600  # frames 12-15: another person far away
    valid = pose.main_track(image, np.ones(t, bool))
    assert not valid[12:16].any() and valid[:12].all() and valid[16:].all()


def test_gaps_are_filled_linearly():
    values = np.arange(10, dtype=float)[:, None] * [1.0, 2.0]
    valid = np.ones(10, bool)
    valid[[0, 4, 5, 9]] = False
    filled = pose.fill_gaps(values, valid)
    np.testing.assert_allclose(filled[4:6], values[4:6])
    np.testing.assert_allclose(filled[0], values[1])
    np.testing.assert_allclose(filled[9], values[8])


def test_a_later_instance_without_a_person_looks_only_every_few_frames(monkeypatch):
    """Instance 1's person is there on frames 9-12 only: it looks on frames 0, 4, 8 (nobody), then on 12 (found)
    and, having found someone, on every frame after, also once the person is gone; instance 0 sees every frame.
    Frames carry their index in pixel (0, 0)."""
    calls: list[list[int]] = []

    class Stub:
        def __init__(self, model_complexity):
            self.seen = []
            calls.append(self.seen)

        def landmarks(self, frame):
            t = int(frame[0, 0, 0])
            self.seen.append(t)
            if len(calls) > 1 and self is not stubs[0] and not 9 <= t <= 12:
                return None
            return np.zeros((33, 3)), np.full((33, 2), 50.0) + np.arange(2)

        def close(self):
            pass

    monkeypatch.setattr(pose, "PoseEstimator", Stub)
    people = pose.PeopleEstimator(max_people=2, probe_every=4)
    stubs = people._instances
    found = []
    for t in range(16):
        frame = np.zeros((100, 100, 3), np.uint8)
        frame[0, 0, 0] = t
        found.append(people.landmarks(frame))
    assert calls[0] == list(range(16))
    assert calls[1] == [0, 4, 8, 12, 13, 14, 15]
    assert [f[1] is not None for f in found] == [False] * 12 + [True] + [False] * 3
    with pytest.raises(GtalignError, match="probe_every"):
        pose.PeopleEstimator(max_people=2, probe_every=0)


def _at(x: float, size: float = 100.0):
    """A detection (world, image landmarks) of a person of `size` pixels centred at (x, 200)."""
    image = np.stack([np.linspace(x - size / 2, x + size / 2, 33), np.linspace(200 - size / 2, 200 + size / 2, 33)],
                     axis=1)
    return np.zeros((33, 3)), image


def test_match_people_keeps_instances_on_their_slots_unless_a_swap_continues_both_better():
    last = [pose._centre_size(_at(100)[1]), pose._centre_size(_at(400)[1])]
    assert pose.match_people([_at(105), _at(395)], last) == [0, 1]
    assert pose.match_people([_at(395), _at(105)], last) == [1, 0]      # the instances traded people
    assert pose.match_people([_at(395), None], last) == [1, 0]          # instance 0 jumped to the other person
    assert pose.match_people([None, _at(102)], last) == [1, 0]          # instance 1 picked up the lost person
    assert pose.match_people([_at(130), None], last) == [0, 1]          # a small step stays
    # before slot 1 was seen: a detection moves there only when it does not continue slot 0 (step > 1)
    assert pose.match_people([_at(130), None], [last[0], None]) == [0, 1]
    assert pose.match_people([_at(400), None], [last[0], None]) == [1, 0]
    assert pose.match_people([_at(130), _at(131)], [None, None]) == [0, 1]  # ties: the identity


def test_people_stay_on_their_slots_when_the_instances_trade_them(monkeypatch):
    """Instance 0 follows the performer (x = 100) on frames 0-4, then jumps to the bystander (x = 400) while
    instance 1 picks up the performer: slot 0 keeps the performer throughout, slot 1 gets the bystander."""
    class Stub:
        count = 0

        def __init__(self, model_complexity):
            self.k, Stub.count = Stub.count, Stub.count + 1

        def landmarks(self, frame):
            t = int(frame[0, 0, 0])
            if self.k == 0:
                return _at(100 + t if t < 5 else 400)
            return None if t < 5 else _at(100 + t)

        def close(self):
            pass

    monkeypatch.setattr(pose, "PoseEstimator", Stub)
    people = pose.PeopleEstimator(max_people=2, probe_every=1)
    slots = []
    for t in range(10):
        frame = np.zeros((500, 600, 3), np.uint8)
        frame[0, 0, 0] = t
        slots.append(people.landmarks(frame))
    assert [round(float(s[0][1].mean(axis=0)[0])) for s in slots] == [100 + t for t in range(10)]
    assert [s[1] is not None and round(float(s[1][1].mean(axis=0)[0])) for s in slots] == [False] * 5 + [400] * 5
