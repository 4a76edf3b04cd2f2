"""The embedding network: trunk cuts, shapes, per-step independence, feature split, regimes."""
from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from gtalign.errors import GtalignError
from gtalign.models import Embedder, build_trunk


def small_embedder(regime: str = "frozen", trunk: str = "mobilenet_v2", **kw) -> Embedder:
    torch.manual_seed(0)
    kw = dict(conv_channels=16, fc_channels=16, embedding_dim=8) | kw
    model = Embedder(trunk, None, regime, **kw)
    for layer in model.head.modules():  # without biases the head is positively homogeneous, so the tiny
        if isinstance(layer, nn.Linear):  # activations of a random trunk still give input-dependent embeddings
            nn.init.zeros_(layer.bias)
    return model


@pytest.mark.parametrize("name,channels", [("resnet18", 256), ("mobilenet_v2", 96)])
def test_trunk_is_the_torchvision_network_up_to_conv4(name, channels, tmp_path):
    torch.manual_seed(0)
    full = getattr(torchvision.models, name)().eval()
    torch.save(full.state_dict(), tmp_path / "w.pth")
    trunk, f = build_trunk(name, tmp_path / "w.pth")
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        if name == "resnet18":
            ref = full.layer3(full.layer2(full.layer1(full.maxpool(full.relu(full.bn1(full.conv1(x)))))))
        else:
            ref = full.features[:14](x)
        out = trunk.eval()(x)
    assert f == channels and out.shape == (2, channels, 4, 4)  # stride 16
    torch.testing.assert_close(out, ref)


def test_resnet50_map_is_1024_channels_at_14x14_for_224px():
    trunk, f = build_trunk("resnet50")
    with torch.no_grad():
        out = trunk.eval()(torch.zeros(1, 3, 224, 224))
    assert f == 1024 and out.shape == (1, 1024, 14, 14)


def test_embeddings_have_unit_norm_and_the_documented_shapes():
    model = small_embedder().eval()
    frames = torch.randn(2, 5, 3, 3, 32, 32)
    embs, maps = model(frames, return_maps=True)
    assert embs.shape == (2, 5, 8) and maps.shape == (2, 5, 16, 3, 2, 2)
    torch.testing.assert_close(embs.norm(dim=-1), torch.ones(2, 5))
    assert (maps >= 0).all()  # after ReLU, as CAM expects


def test_each_step_is_embedded_from_its_own_context_frames_only():
    model = small_embedder().eval()
    frames = torch.randn(2, 4, 2, 3, 32, 32)
    with torch.no_grad():
        embs = model(frames)
        alone = torch.stack([model(frames[b:b + 1, t:t + 1])[0, 0] for b in range(2) for t in range(4)])
        reversed_steps = model(frames.flip(1))
    torch.testing.assert_close(embs.reshape(8, -1), alone, atol=1e-5, rtol=1e-5)
    assert (torch.cdist(alone, alone) + torch.eye(8)).min() > 1e-2  # the steps' embeddings differ
    torch.testing.assert_close(reversed_steps, embs.flip(1), atol=1e-5, rtol=1e-5)


def test_context_order_matters_for_the_3d_convs():
    model = small_embedder().eval()
    frames = torch.randn(1, 2, 3, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(model(frames), model(frames.flip(2)))


def test_cached_features_give_the_same_embeddings_as_frames():
    model = small_embedder().eval()
    frames = torch.randn(2, 3, 2, 3, 32, 32)
    with torch.no_grad():
        feats = model.trunk_features(frames.flatten(0, 2)).unflatten(0, (2, 3, 2))
        torch.testing.assert_close(model.embed_features(feats.half()), model(frames), atol=1e-2, rtol=0)
        torch.testing.assert_close(model.embed_features(feats), model(frames))


def test_max_pooling_and_projection_by_hand():
    """ContextEmbedder = max over (C, h, w) of the conv maps, FCs, linear, L2 normalisation."""
    model = small_embedder().eval()
    feats = torch.randn(1, 1, 2, 96, 3, 3)
    with torch.no_grad():
        embs, maps = model.embed_features(feats, return_maps=True)
        pooled = maps[0, 0].reshape(16, -1).max(dim=1).values
        h = pooled
        for layer in model.head.fcs:
            if isinstance(layer, nn.Linear):
                h = torch.relu(h @ layer.weight.T + layer.bias)
        z = h @ model.head.projection.weight.T + model.head.projection.bias
    torch.testing.assert_close(embs[0, 0], z / z.norm())


@pytest.mark.parametrize("regime,trunk_trainable", [("scratch", "all"), ("train_all", "all"), ("only_bn", "bn"),
                                                     ("frozen", "none")])
def test_regimes_choose_what_the_trunk_trains(regime, trunk_trainable):
    model = small_embedder(regime)
    bn = [p.requires_grad for m in model.trunk.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()]
    conv = [p.requires_grad for m in model.trunk.modules() if isinstance(m, nn.Conv2d) for p in m.parameters()]
    assert all(bn) == (trunk_trainable in ("all", "bn")) and any(bn) == all(bn)
    assert all(conv) == (trunk_trainable == "all") and any(conv) == all(conv)
    assert all(p.requires_grad for p in model.head.parameters())


def test_frozen_trunk_keeps_bn_statistics_and_only_bn_updates_them():
    frames = torch.randn(1, 2, 2, 3, 32, 32)
    for regime, should_change in [("frozen", False), ("only_bn", True)]:
        model = small_embedder(regime).train()
        bn = model.trunk[0][1]
        before = bn.running_mean.clone()
        model(frames).sum().backward()
        assert bn.training == should_change
        assert (not torch.equal(before, bn.running_mean)) == should_change
        assert (bn.weight.grad is not None) == should_change
        assert model.trunk[0][0].weight.grad is None


def test_bad_arguments_raise_gtalign_errors(tmp_path):
    model = small_embedder()
    with pytest.raises(GtalignError, match=r"frames must have shape \(B, T, C, 3, H, W\)"):
        model(torch.randn(2, 3, 32, 32))
    with pytest.raises(GtalignError, match="feats must have shape"):
        model.embed_features(torch.randn(1, 2, 2, 7, 2, 2))
    with pytest.raises(GtalignError, match="trunk must be one of"):
        Embedder("vgg")
    with pytest.raises(GtalignError, match="regime must be one of"):
        Embedder("mobilenet_v2", regime="some")
    with pytest.raises(GtalignError, match="random initialisation"):
        Embedder("mobilenet_v2", weights=tmp_path / "w.pth", regime="scratch")


@pytest.mark.parametrize("trunk", ["mobilenet_v2", "resnet18"])
def test_a_frozen_trunk_runs_channels_last_and_gives_the_plain_trunks_maps(trunk):
    """A frozen trunk runs channels-last (faster on CPU): its maps equal the same weights run in the default layout
    and come back contiguous; the state_dict's layout-free digest is unchanged. A trunk that trains keeps the
    default layout."""
    from gtalign.train.features import weights_digest

    def channels_last(m: Embedder) -> bool:
        conv = next(x for x in m.trunk.modules() if isinstance(x, nn.Conv2d))
        return conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()

    model = small_embedder("frozen", trunk).eval()
    assert channels_last(model) and not channels_last(small_embedder("train_all", trunk))
    plain = build_trunk(trunk, None)[0].eval()
    plain.load_state_dict(model.trunk.state_dict())
    assert weights_digest(plain) == weights_digest(model.trunk)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        out, ref = model.trunk_features(x), plain(x)
    assert out.is_contiguous()
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)


def test_the_head_convolutions_run_channels_last_3d_and_give_the_default_layouts_maps():
    """The 3D convolutions of the head run channels-last (faster on CPU, forward and backward): maps and weight
    gradients equal the same weights run by F.conv3d in the default layout, to float rounding (float32 sums over
    tens of thousands of terms, in another order: the gradient's tolerance is relative to its largest value)."""
    torch.manual_seed(0)
    model = small_embedder().train()
    conv = next(x for x in model.head.convs if isinstance(x, nn.Conv3d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last_3d) and not conv.weight.is_contiguous()
    feats = torch.randn(6, 3, 96, 4, 4)
    maps = model.head.conv_maps(feats)
    grad, = torch.autograd.grad(maps.square().sum(), conv.weight)
    weight = conv.weight.detach().contiguous().requires_grad_(True)
    h = torch.nn.functional.conv3d(feats.transpose(1, 2).contiguous(), weight, padding=1)
    for layer in list(model.head.convs)[1:]:
        h = layer(h.contiguous()) if not isinstance(layer, nn.Conv3d) else torch.nn.functional.conv3d(
            h.contiguous(), layer.weight.detach().contiguous(), padding=1)
    ref_grad, = torch.autograd.grad(h.square().sum(), weight)
    torch.testing.assert_close(maps, h, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-3, atol=1e-5 * float(ref_grad.abs().max()))
