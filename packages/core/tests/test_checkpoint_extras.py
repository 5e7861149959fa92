"""flambeau.utils.checkpoint's helpers beyond checkpoint(): early-stop and debug switches,
detach_variable, check_backward_validity, device RNG states, CheckpointFunction and
DefaultDeviceType, against torch."""

import warnings

import pytest

import flambeau
import flambeau.utils.checkpoint as ours
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
if torch is not None:
    import torch.utils.checkpoint as theirs
else:
    theirs = None


def _calls_after_last_save(lib, module, **switch):
    """How often the code after a block's last saved tensor runs again in backward."""
    calls = []

    def block(t):
        y = t.exp()  # saves its output: the last tensor the block saves
        calls.append(1)
        return y * 2

    x = lib.ones(2, requires_grad=True)
    if switch:
        with module.set_checkpoint_early_stop(switch["early_stop"]):
            out = module.checkpoint(block, x, use_reentrant=False)
    else:
        out = module.checkpoint(block, x, use_reentrant=False)
    calls.clear()
    out.sum().backward()  # outside the switch: the forward pass decided
    return len(calls), x.grad.tolist()


def test_set_checkpoint_early_stop_matches_torch():
    for switch in ({}, {"early_stop": False}, {"early_stop": True}):
        got = _calls_after_last_save(flambeau, ours, **switch)
        assert got[0] == (1 if switch.get("early_stop") is False else 0)
        if torch is not None:
            assert got[0] == _calls_after_last_save(torch, theirs, **switch)[0]
            assert got[1] == pytest.approx(_calls_after_last_save(torch, theirs, **switch)[1])
    assert ours._early_stop_override is None  # restored on leaving


def test_set_checkpoint_debug_enabled_is_a_context_manager():
    with ours.set_checkpoint_debug_enabled(True):
        assert ours._debug_override is True
        x = flambeau.ones(1, requires_grad=True)
        ours.checkpoint(lambda t: t.sin(), x, use_reentrant=False).backward()
    assert ours._debug_override is None
    # as in torch, the switch is no debug= argument: reentrant checkpoints do not refuse it
    with ours.set_checkpoint_debug_enabled(True):
        ours.checkpoint(lambda t: t * 2, x, use_reentrant=True)
    if torch is not None:
        with theirs.set_checkpoint_debug_enabled(True):
            theirs.checkpoint(lambda t: t * 2, torch.ones(1, requires_grad=True),
                              use_reentrant=True)


def test_detach_variable_matches_torch():
    def case(lib, module):
        x = lib.ones(2, requires_grad=True) * 3
        y = lib.ones(2)
        d = module.detach_variable((x, y, 3))
        return ([a.requires_grad for a in d[:2]], [a.grad_fn is None for a in d[:2]],
                d[2], d[0] is x, d[0].tolist())

    got = case(flambeau, ours)
    assert got == ([True, False], [True, True], 3, False, [3.0, 3.0])
    if torch is not None:
        assert got == case(torch, theirs)
    with pytest.raises(RuntimeError, match="Only tuple of tensors is supported. Got "
                                           "Unsupported input type: list"):
        ours.detach_variable([flambeau.ones(1)])


def test_check_backward_validity_warns_as_torch():
    for lib, module in ((flambeau, ours), (torch, theirs)):
        if lib is None:
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module.check_backward_validity((lib.ones(1), 2))
            module.check_backward_validity((lib.ones(1, requires_grad=True),))
        assert [str(w.message) for w in caught] == [
            "None of the inputs have requires_grad=True. Gradients will be None"]
        assert caught[0].filename == __file__


def test_device_states_on_the_cpu_match_torch():
    x = flambeau.ones(2, device="cpu")
    assert ours.get_device_states(x, 1) == ([], [])
    if torch is not None:
        assert theirs.get_device_states(torch.ones(2), 1) == ([], [])
    ours.set_device_states([], [])


def test_default_device_type():
    before = ours.DefaultDeviceType.get_device_type()
    expected = "cuda" if flambeau.cuda.is_available() else "cpu"
    assert before == expected
    if torch is not None:
        assert theirs.DefaultDeviceType.get_device_type() == (
            "cuda" if torch.cuda.is_available() else "cpu")
    try:
        ours.DefaultDeviceType.set_device_type("cuda")
        assert ours.DefaultDeviceType.get_device_type() == "cuda"
    finally:
        ours.DefaultDeviceType.set_device_type(None)
    assert ours.DefaultDeviceType.get_device_type() == before


def test_checkpoint_function_matches_torch():
    def case(lib, module):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        out = module.CheckpointFunction.apply(lambda t: (t.sin() * t).sum(), True, x)
        out.backward()
        return out.item(), x.grad.tolist()

    got = case(flambeau, ours)
    if torch is not None:
        want = case(torch, theirs)
        assert got[0] == pytest.approx(want[0]) and got[1] == pytest.approx(want[1])
    assert issubclass(ours.CheckpointFunction, flambeau.autograd.Function)


def test_all_matches_torch_but_its_aten_and_compile_names():
    if torch is None:
        pytest.skip("torch is not installed")
    # SAC_IGNORED_OPS lists aten ops (flambeau has none); GraphExecGroup is torch.compile's
    left_out = {"SAC_IGNORED_OPS", "GraphExecGroup"}
    assert set(theirs.__all__) - left_out == set(ours.__all__)
