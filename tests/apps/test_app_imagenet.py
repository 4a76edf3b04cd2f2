"""The default encoder (ImageNet MobileNetV2 features, no training) on synthetic action videos with known warps.

Measured when written (112 px): same-action pairs 0.9-1.4 frames mean error and z = 4.5-5.1 in the same-process test;
different-action pairs z = 0.0-0.9. The assertions leave a margin around those numbers.
"""
import numpy as np
import pytest

from gtalign.apps.alignment import align_embeddings
from gtalign.apps.encoders import ImagenetEncoder
from gtalign.apps.sameness import sameness_test
from gtalign.data import open_source
from tests._helpers.apps import needs_weights, warp_frame_error


@pytest.fixture(scope="module")
def embedded(synth_manifest):
    needs_weights()
    source = open_source(synth_manifest)
    encoder = ImagenetEncoder(image_size=112, device="cpu")
    return source, [encoder.encode(source, i) for i in range(len(source))]


def frame_error(source, a, b, frame_b):
    return warp_frame_error(source.entries[a].meta["canonical_time"], source.entries[b].meta["canonical_time"],
                            frame_b)


def test_embeddings_are_unit_and_centred(embedded):
    source, embeddings = embedded
    for entry, emb in zip(source.entries, embeddings):
        assert emb.shape == (entry.num_frames, 96 * 16) and emb.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_same_action_pairs_align_and_pass_the_test(embedded):
    source, embeddings = embedded
    pairs = [(a, b) for a in range(len(source)) for b in range(len(source))
             if a != b and source.entries[a].class_name == source.entries[b].class_name]
    assert len(pairs) == 4
    for a, b in pairs:
        alignment = align_embeddings(embeddings[a], embeddings[b])
        assert frame_error(source, a, b, alignment.frame_b) < 2.5, (a, b)
        assert sameness_test(alignment.cost).same_process, (a, b)


def test_different_actions_are_flagged(embedded):
    source, embeddings = embedded
    for a in range(len(source)):
        for b in range(len(source)):
            if source.entries[a].class_name != source.entries[b].class_name:
                assert not sameness_test(align_embeddings(embeddings[a], embeddings[b]).cost).same_process, (a, b)
