"""Config files, overrides and the schema's error messages."""
from __future__ import annotations

from pathlib import Path

import pytest

from gtalign.errors import GtalignError
from gtalign.train.config import Config, config_from_dict, dump_config, load_config, parse_override

CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("*.yaml"))


def test_defaults_are_the_published_setting():
    c = load_config()
    assert (c.optim.name, c.optim.lr, c.data.batch_size, c.data.num_steps) == ("adam", 1e-4, 4, 20)
    assert (c.data.num_context, c.data.frame_stride, c.train.max_steps) == (2, 15, 150000)
    assert c.augment.flip and c.augment.brightness == pytest.approx(32 / 255) and c.augment.contrast == [0.5, 1.5]
    assert (c.model.trunk, c.model.embedding_dim, c.loss["name"]) == ("resnet50", 128, "gta")


def test_overrides_are_parsed_as_yaml_into_the_schema_types(tmp_path):
    c = load_config(None, [f"data.root={tmp_path}", "train.max_steps=100", "train.log_dir=runs/x", "optim.lr=3e-4",
                           "augment.contrast=[0.8, 1.2]", "model.weights=null", "optim.grad_clip=null",
                           "loss.name=tcc", "loss.temperature=0.5"])
    assert c.data.root == str(tmp_path) and c.train.max_steps == 100 and c.train.log_dir == "runs/x"
    assert c.optim.lr == 3e-4 and isinstance(c.optim.lr, float) and c.augment.contrast == [0.8, 1.2]
    assert c.model.weights is None and c.optim.grad_clip is None
    assert c.loss == {"name": "tcc", "temperature": 0.5} and c.loss_kwargs() == {"temperature": 0.5}


def test_yaml_file_then_overrides_and_the_round_trip(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  batch_size: 8\noptim:\n  lr: 1e-4\ntrain:\n  max_steps: 10\n")
    c = load_config(path, ["train.max_steps=20"])
    assert c.data.batch_size == 8 and c.optim.lr == 1e-4 and c.train.max_steps == 20
    (tmp_path / "resolved.yaml").write_text(dump_config(c))
    assert load_config(tmp_path / "resolved.yaml") == c


@pytest.mark.parametrize("override,message", [
    ("train.max_step=3", r"unknown config key 'train.max_step'; did you mean 'max_steps'\?"),
    ("trian.max_steps=3", r"unknown config section 'trian'; did you mean 'train'\?"),
    ("train.max_steps=abc", r"train.max_steps must be int, got 'abc' \(str\)"),
    ("train.max_steps=2.5", r"train.max_steps must be int, got 2.5"),
    ("augment.flip=3", r"augment.flip must be bool, got 3"),
    ("augment.contrast=[1, x]", r"augment.contrast\[1\] must be float, got 'x'"),
    ("augment.contrast=0.5", r"augment.contrast must be a list of float"),
    ("data.batch_size=0", r"data.batch_size must be > 0, got 0"),
    ("model.dropout=1.5", r"model.dropout must be in \[0, 1\), got 1.5"),
    ("model.cache_features=true", r"model.cache_features needs model.regime=frozen"),
    ("data.root", r"must look like section.key=value"),
    ("root=x", r"must be section.key"),
])
def test_bad_values_name_the_key_and_what_was_expected(override, message):
    with pytest.raises(GtalignError, match=message):
        load_config(None, [override])


def test_bad_files_and_sections(tmp_path):
    with pytest.raises(GtalignError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("data: [1, 2")
    with pytest.raises(GtalignError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")
    with pytest.raises(GtalignError, match="section 'data' must be a mapping"):
        config_from_dict({"data": 3})
    with pytest.raises(GtalignError, match="loss.name must be str"):
        config_from_dict({"loss": {"name": 3}})


def test_override_values_keep_equals_signs():
    assert parse_override("data.root=/a=b") == (["data", "root"], "/a=b")


def test_shipped_configs_are_valid_and_name_registered_losses():
    from gtalign import losses

    assert len(CONFIGS) >= 8
    names = set()
    for path in CONFIGS:
        c = load_config(path)
        assert isinstance(c, Config)
        names.add(c.loss["name"])
        kwargs = c.loss_kwargs()
        if c.loss["name"] in ("speednet", "sal"):
            kwargs.setdefault("dim", c.model.embedding_dim)
        losses.create(c.loss["name"], **kwargs)  # the loss accepts the config's arguments
    assert names == set(losses.available())


@pytest.mark.parametrize("text, message", [
    ("- a\n- b\n", "must be a mapping of sections .* got a list at the top level"),
    ("data: 5\n", "section 'data' must be a mapping of keys, got 5"),
    ("train: [1, 2]\n", "section 'train' must be a mapping of keys, got \\[1, 2\\]"),
])
def test_malformed_config_files_are_clear_errors_naming_the_file(tmp_path, text, message):
    from gtalign.train.config import load_config

    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(GtalignError, match=message) as e:
        load_config(path, ["data.root=x"])
    assert str(path) in str(e.value)


def test_an_empty_section_keeps_its_defaults(tmp_path):
    from gtalign.train.config import load_config

    path = tmp_path / "ok.yaml"
    path.write_text("data:\ntrain:\n  max_steps: 7\n")
    assert load_config(path).train.max_steps == 7
