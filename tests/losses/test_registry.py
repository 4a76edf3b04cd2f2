"""The registry: names to losses, checked arguments, the documented interface of every loss."""
import copy
import re

import pytest
import torch
from torch import nn

from gtalign.errors import GtalignError
from gtalign.losses import GTALoss, available, create, loss_class, register
from gtalign.losses.base import FrameLoss


def test_create_builds_each_registered_loss_with_its_arguments():
    loss = create("gta", gamma_s=0.05, pairing="all", cycle=False)
    assert loss.gamma_s == 0.05 and loss.pairing == "all" and loss.cycle is False
    for name in available():
        built = create(name)
        assert isinstance(built, FrameLoss) and isinstance(built, nn.Module) and built.name == name


def test_loss_class_names_the_class_without_building_it():
    assert loss_class("gta") is GTALoss
    assert loss_class("tcn").needs == frozenset({"steps"})
    with pytest.raises(GtalignError, match=r"loss must be one of \[.*'gta'.*\], got 'nope'$"):
        loss_class("nope")


def test_unknown_name_or_argument_is_a_clear_error():
    with pytest.raises(GtalignError, match=r"loss must be one of .*, got 'gtaa' \(did you mean 'gta'\?\)"):
        create("gtaa")
    with pytest.raises(GtalignError, match=r"unknown argument\(s\) \['gama_s'\].*gamma_s"):
        create("gta", gama_s=0.1)
    with pytest.raises(GtalignError, match="relaxation"):
        create("gta", relaxation="softmax")
    with pytest.raises(GtalignError, match="pairing"):
        create("softdtw", pairing="random")


def test_a_name_cannot_be_taken_twice():
    with pytest.raises(GtalignError, match="already registered"):
        register("gta")(type("Other", (FrameLoss,), {}))


@pytest.mark.parametrize("name", available())
def test_each_loss_documents_paper_formula_and_extras(name):
    cls = type(create(name))
    doc = cls.__doc__ or ""
    assert re.search(r"(19|20)\d\d", doc), "docstring cites the paper with its year"
    assert re.search(r"L = [^`]*(log|max|mean|CE)", doc), "docstring gives the formula of L"
    assert isinstance(cls.needs, frozenset) and isinstance(cls.uses, frozenset)


def test_losses_copy_with_their_heads_and_seeds():
    loss = create("sal", dim=8, seed=3)
    twin = copy.deepcopy(loss)
    embs = torch.nn.functional.normalize(torch.randn(2, 10, 8), dim=-1)
    with torch.no_grad():
        assert loss(embs).item() == twin(embs).item()
