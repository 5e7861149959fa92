"""Inference tensors: made under inference_mode, refused by autograd outside it."""

import pytest

import flambeau

SAVED = "Inference tensors cannot be saved for backward"
INPLACE = "Inplace update to inference tensor outside InferenceMode is not allowed"


def _inference_ones(*shape):
    with flambeau.inference_mode():
        return flambeau.ones(*shape)


def test_tensors_made_in_inference_mode_are_inference_tensors():
    base = flambeau.ones(3, requires_grad=True)
    with flambeau.inference_mode():
        made = flambeau.zeros(2)
        computed = base * 2
        view_of_normal = base[:1]
        assert flambeau.is_inference_mode_enabled()
    assert made.is_inference() and computed.is_inference()
    assert not computed.requires_grad
    assert not view_of_normal.is_inference()  # a view of a normal tensor stays normal
    assert made[:1].is_inference() and made.detach().is_inference()  # views share the mark
    assert not flambeau.ones(1).is_inference()
    assert not made.clone().is_inference() and not (made * 2).is_inference()
    with flambeau.no_grad():
        assert not flambeau.ones(1).is_inference()


def test_saving_an_inference_tensor_for_backward_raises():
    i = _inference_ones(2)
    w = flambeau.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=SAVED):
        i * w  # mul saves i for the gradient of w
    y = i + w  # add saves nothing: allowed, as in torch
    y.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]
    with flambeau.no_grad():
        assert (i * w).tolist() == [1.0, 1.0]  # not recorded: allowed
    z = i.clone() * w  # the documented workaround
    assert z.requires_grad


def test_inplace_update_outside_inference_mode_raises_before_writing():
    i = _inference_ones(2)
    with pytest.raises(RuntimeError, match=INPLACE):
        i.add_(1)
    with pytest.raises(RuntimeError, match=INPLACE):
        i.mul_(flambeau.ones(2))
    assert i.tolist() == [1.0, 1.0]
    with flambeau.inference_mode():
        i.add_(1)  # inside inference mode it is allowed
    assert i.tolist() == [2.0, 2.0]


def test_requires_grad_on_inference_tensor_outside_inference_mode_raises():
    i = _inference_ones(2)
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor "
                                           "outside InferenceMode is not allowed"):
        i.requires_grad_()
    i.requires_grad_(False)


def test_inference_mode_false_turns_it_off_and_enables_grad():
    with flambeau.inference_mode():
        with flambeau.inference_mode(False):
            assert flambeau.is_grad_enabled() and not flambeau.is_inference_mode_enabled()
            assert not flambeau.ones(1).is_inference()
        assert not flambeau.is_grad_enabled() and flambeau.is_inference_mode_enabled()
    with flambeau.no_grad():
        with flambeau.inference_mode(False):
            assert flambeau.is_grad_enabled()
        assert not flambeau.is_grad_enabled()
    assert flambeau.is_grad_enabled() and not flambeau.is_inference_mode_enabled()


def test_inference_mode_as_decorator_marks_results():
    @flambeau.inference_mode()
    def f(x):
        return x * 2

    out = f(flambeau.ones(2, requires_grad=True))
    assert out.is_inference() and not out.requires_grad


def test_messages_match_torch():
    torch = pytest.importorskip("torch")
    with torch.inference_mode():
        i = torch.ones(2)
    with pytest.raises(RuntimeError, match=SAVED):
        i * torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=INPLACE):
        i.add_(1)
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor "
                                           "outside InferenceMode is not allowed"):
        i.requires_grad_()
