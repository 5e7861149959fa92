"""AveragedModel (SWA and EMA of a model's weights), its averaging functions, and update_bn."""

from __future__ import annotations

import itertools
from copy import deepcopy

import flambeau
from flambeau import Tensor
from flambeau.autograd import no_grad
from flambeau.nn import Module
from flambeau.nn.modules.normalization import _BatchNorm

__all__ = ["AveragedModel", "update_bn", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(fn_name, decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"{fn_name}: Invalid decay value {decay} provided. Please provide a "
                         "value in [0,1] range.")


def _lerp_(a, b, weight):
    """``a += weight * (b - a)`` in place, rounded like PyTorch's ``lerp_`` on both sides of 0.5."""
    if weight < 0.5:
        a.add_((b - a) * weight)
    else:
        a.copy_(b - (b - a) * (1 - weight))


def _is_float(t):
    return t.is_floating_point() or t.is_complex()


def _int_average_(averaged, current, num_averaged):
    """Equal-weight update of integer tensors, truncated back to their dtype."""
    averaged.copy_(averaged + (current - averaged) / (num_averaged + 1))


def get_ema_multi_avg_fn(decay=0.999):
    """An exponential moving average of lists of tensors, updated in place (``multi_avg_fn``).

    The returned ``fn(ema_params, current_params, num_averaged)`` sets each
    ``ema = decay * ema + (1 - decay) * current`` (as ``lerp_(current, 1 - decay)`` for
    floating tensors; ``num_averaged`` is unused).

    Parameters
    ----------
    decay : float
        Weight of the running average, in [0, 1] (default 0.999).

    Raises
    ------
    ValueError
        If ``decay`` is outside [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim.swa_utils import get_ema_multi_avg_fn
    >>> ema, new = [flambeau.zeros(2)], [flambeau.ones(2)]
    >>> get_ema_multi_avg_fn(0.75)(ema, new, None)
    >>> ema
    [tensor([0.2500, 0.2500])]
    """
    _check_decay("get_ema_multi_avg_fn", decay)

    def ema_update(ema_param_list, current_param_list, _):
        with no_grad():
            if _is_float(ema_param_list[0]):
                for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                    _lerp_(p_ema, p_model, 1 - decay)
            else:
                for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An equal-weight running average of lists of tensors, updated in place (``multi_avg_fn``).

    The returned ``fn(averaged_params, current_params, num_averaged)`` moves each average
    ``1 / (num_averaged + 1)`` of the way to the current value. With a tensor
    ``num_averaged`` (as :class:`AveragedModel` passes it) the weight is computed in the
    default dtype, as PyTorch computes it.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim.swa_utils import get_swa_multi_avg_fn
    >>> avg, new = [flambeau.full((2,), 2.0)], [flambeau.full((2,), 5.0)]
    >>> get_swa_multi_avg_fn()(avg, new, 2)
    >>> avg
    [tensor([3., 3.])]
    """

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        with no_grad():
            if _is_float(averaged_param_list[0]):
                weight = 1 / (num_averaged + 1)
                weight = float(weight) if isinstance(weight, Tensor) else weight
                for p_avg, p_model in zip(averaged_param_list, current_param_list,
                                          strict=True):
                    _lerp_(p_avg, p_model, weight)
            else:
                for p_avg, p_model in zip(averaged_param_list, current_param_list,
                                          strict=True):
                    _int_average_(p_avg, p_model, num_averaged)

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """An exponential moving average of one tensor, returned as a new tensor (``avg_fn``).

    The returned ``fn(ema_param, current_param, num_averaged)`` gives
    ``decay * ema_param + (1 - decay) * current_param``.

    Parameters
    ----------
    decay : float
        Weight of the running average, in [0, 1] (default 0.999).

    Raises
    ------
    ValueError
        If ``decay`` is outside [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim.swa_utils import get_ema_avg_fn
    >>> get_ema_avg_fn(0.5)(flambeau.zeros(2), flambeau.ones(2), 7)
    tensor([0.5000, 0.5000])
    """
    _check_decay("get_ema_avg_fn", decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """An equal-weight running average of one tensor, returned as a new tensor (``avg_fn``).

    The returned ``fn(averaged_param, current_param, num_averaged)`` gives
    ``averaged + (current - averaged) / (num_averaged + 1)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim.swa_utils import get_swa_avg_fn
    >>> get_swa_avg_fn()(flambeau.full((2,), 2.0), flambeau.full((2,), 5.0), 2)
    tensor([3., 3.])
    """

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _group_by_device_and_dtype(averaged, current):
    """``{(device, dtype): (averaged list, current list)}`` in order of first appearance."""
    groups = {}
    for a, c in zip(averaged, current, strict=True):
        lists = groups.setdefault((a.device, a.dtype), ([], []))
        lists[0].append(a)
        lists[1].append(c)
    return groups


class AveragedModel(Module):
    """A copy of a model whose weights are a running average of the model's, PyTorch's
    ``torch.optim.swa_utils.AveragedModel``.

    Stochastic weight averaging (Izmailov et al., 2018) averages the weights visited late
    in training with equal weights (the default); an exponential moving average (EMA) is had
    with ``multi_avg_fn=get_ema_multi_avg_fn(decay)``. The first
    :meth:`update_parameters` copies the model's weights; each later one averages them in.

    Parameters
    ----------
    model : flambeau.nn.Module
        The model to average; a deep copy is kept in ``self.module``.
    device : device, optional
        Where to keep the averaged copy (default: the model's device).
    avg_fn : callable, optional
        ``avg_fn(averaged, current, num_averaged)`` returning the new average of one tensor.
    multi_avg_fn : callable, optional
        ``multi_avg_fn(averaged_list, current_list, num_averaged)`` updating lists of
        tensors (of one device and dtype) in place. Without either function an equal-weight
        average is used.
    use_buffers : bool
        Average the buffers too (BatchNorm statistics) instead of copying the model's
        (default False).

    Attributes
    ----------
    n_averaged : Tensor
        The number of models averaged so far (an int64 buffer, saved in the state_dict next
        to the ``module.*`` entries, as PyTorch saves it).

    Raises
    ------
    ValueError
        If both ``avg_fn`` and ``multi_avg_fn`` are given (PyTorch raises AssertionError).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    >>> model = nn.Linear(2, 1)
    >>> ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.5))
    >>> for value in (4.0, 0.0):
    ...     with flambeau.no_grad():
    ...         _ = model.weight.fill_(value)
    ...     ema.update_parameters(model)
    >>> ema.module.weight.detach(), list(ema.state_dict())
    (tensor([[2., 2.]]), ['n_averaged', 'module.weight', 'module.bias'])
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: Only one of avg_fn and multi_avg_fn should be "
                             "provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged",
                             flambeau.tensor(0, dtype=flambeau.long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged copy of the model.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> from flambeau.optim.swa_utils import AveragedModel
        >>> swa = AveragedModel(nn.Identity())
        >>> swa(flambeau.tensor([1.0, 2.0]))
        tensor([1., 2.])
        """
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Average ``model``'s current weights into this copy; ``n_averaged`` grows by one.

        Parameters (and, with ``use_buffers``, buffers) are paired with ``model``'s in
        order. Without ``use_buffers`` the buffers are copied from ``model``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> from flambeau.optim.swa_utils import AveragedModel
        >>> model = nn.Linear(1, 1, bias=False)
        >>> swa = AveragedModel(model)
        >>> for value in (1.0, 2.0, 6.0):
        ...     with flambeau.no_grad():
        ...         _ = model.weight.fill_(value)
        ...     swa.update_parameters(model)
        >>> swa.module.weight.item(), swa.n_averaged.item()
        (3.0, 3)
        """
        if self.use_buffers:
            averaged = itertools.chain(self.module.parameters(), self.module.buffers())
            current = itertools.chain(model.parameters(), model.buffers())
        else:
            averaged, current = self.parameters(), model.parameters()
        with no_grad():
            self._average(averaged, current)
            if not self.use_buffers:
                for b_swa, b_model in zip(self.module.buffers(), model.buffers(),
                                          strict=True):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged += 1

    def _average(self, averaged, current):
        averaged_list, current_list = [], []
        first = bool(self.n_averaged == 0)
        # PyTorch pairs the two models' tensors without checking that their numbers agree
        for p_avg, p_model in zip(averaged, current, strict=False):
            p_model = p_model.detach().to(p_avg.device)
            averaged_list.append(p_avg.detach())
            current_list.append(p_model)
            if first:
                p_avg.detach().copy_(p_model)
        if first:
            return
        if self.avg_fn is not None:
            for p_avg, p_model in zip(averaged_list, current_list, strict=True):
                n = self.n_averaged.to(p_avg.device)
                p_avg.copy_(self.avg_fn(p_avg, p_model, n))
            return
        groups = _group_by_device_and_dtype(averaged_list, current_list)
        for (device, dtype), (avg_group, model_group) in groups.items():
            n = self.n_averaged.to(device)
            if self.multi_avg_fn is not None:
                self.multi_avg_fn(avg_group, model_group, n)
            elif device.type == "cuda" and (dtype.is_floating_point or dtype.is_complex):
                # PyTorch's multi-tensor (lerp) average, where it has foreach kernels
                get_swa_multi_avg_fn()(avg_group, model_group, n)
            else:
                avg_fn = get_swa_avg_fn()
                for p_avg, p_model in zip(avg_group, model_group, strict=True):
                    p_avg.copy_(avg_fn(p_avg, p_model, n))


def update_bn(loader, model, device=None):
    """Recompute the BatchNorm running statistics of ``model`` with one pass over ``loader``.

    Every BatchNorm layer's statistics are reset and then set to the plain average over the
    batches (momentum None while the pass runs); the model runs in training mode, under
    ``no_grad``, and gets its mode and momenta back afterwards. Models without BatchNorm
    are left alone.

    Parameters
    ----------
    loader : iterable
        Batches: tensors, or lists/tuples whose first element is the input tensor.
    model : flambeau.nn.Module
        The model (e.g. an :class:`AveragedModel`).
    device : device, optional
        Move each batch there before calling the model.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.optim.swa_utils import update_bn
    >>> model = nn.BatchNorm1d(1)
    >>> batches = [flambeau.tensor([[0.0], [2.0]]), (flambeau.tensor([[4.0], [6.0]]), 0)]
    >>> update_bn(batches, model)
    >>> model.running_mean, model.momentum, model.training
    (tensor([3.]), 0.1, True)
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, (list, tuple)):
                    batch = batch[0]
                if device is not None:
                    batch = batch.to(device)
                model(batch)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)
