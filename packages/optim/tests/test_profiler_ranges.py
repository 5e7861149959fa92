"""Optimizer steps show in the profiler under torch's range names."""

import pytest

import flambeau
from flambeau.optim import SGD, Adam
from flambeau.profiler import profile

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_step_and_zero_grad_ranges_match_torch(name):
    names = []
    for lib, cls in ((flambeau, {"SGD": SGD, "Adam": Adam}[name]),
                     (torch, getattr(torch.optim, name))):
        w = lib.zeros(2, requires_grad=True)
        opt = cls([w], lr=0.1)
        w.sum().backward()
        with lib.profiler.profile() as prof:
            opt.step()
            opt.zero_grad()
        names.append([e.name for e in prof.events() if e.name.startswith("Optimizer.")])
    assert names[0] == names[1] == [f"Optimizer.step#{name}.step",
                                    f"Optimizer.zero_grad#{name}.zero_grad"]


def test_a_failing_step_closes_its_range():
    w = flambeau.zeros(2, requires_grad=True)
    opt = SGD([w], lr=0.1)

    def closure():
        raise ValueError("boom")

    with profile() as prof:
        with pytest.raises(ValueError, match="boom"):
            opt.step(closure)
        flambeau.ones(2) * 2.0
    events = {e.name: e for e in prof.events()}
    assert events["flambeau::mul"].cpu_parent is None  # not inside the failed step's range
    assert "Optimizer.step#SGD.step" in events
