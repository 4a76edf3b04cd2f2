"""Every loss gives the same value and gradient on a CUDA device as on the CPU (skipped without CUDA)."""
import pytest
import torch
import torch.nn.functional as F

from gtalign.losses import available, create

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("name", available())
def test_cuda_matches_cpu(name):
    options = {"dim": 16, "seed": 0} if name in ("sal", "speednet") else {"seed": 0} if name == "d3tw" else {}
    embs = F.normalize(torch.randn(4, 20, 16, generator=torch.Generator().manual_seed(0)), dim=-1)
    lengths = torch.tensor([20, 15, 18, 11])
    steps = (torch.arange(20) * 3).expand(4, 20)
    results = []
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        loss = create(name, **options).to(device)
        leaf = embs.to(device).requires_grad_(True)
        views = torch.tensor([0, 0, 1, 1], device=device)
        value = loss(leaf, lengths.to(device), steps=steps.to(device), video_index=views)
        (grad,) = torch.autograd.grad(value, leaf)
        results.append((value.detach().cpu(), grad.cpu()))
    (cpu_value, cpu_grad), (cuda_value, cuda_grad) = results
    torch.testing.assert_close(cuda_value, cpu_value, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(cuda_grad, cpu_grad, rtol=1e-3, atol=1e-5 * float(cpu_grad.abs().max()))
