"""Pruning: zero out parts of a parameter through a mask, as ``torch.nn.utils.prune``.

Pruning the parameter ``weight`` of a module moves it to ``weight_orig``, adds the buffer
``weight_mask`` (1 keeps an entry, 0 prunes it) and makes ``module.weight`` the plain tensor
``weight_orig * weight_mask``, recomputed by a forward pre-hook before each call. Gradients
flow to ``weight_orig`` through the mask, so pruned entries get zero gradient. Pruning the
same parameter again prunes among the entries (or channels) still kept: the methods are
chained in a :class:`PruningContainer`. :func:`remove` makes the pruning permanent.

``amount`` is a fraction in ``[0, 1]`` of the entries (or channels) to prune, rounded to the
nearest integer (halves to even, Python's ``round``), or an absolute count.

Examples
--------
>>> import flambeau
>>> from flambeau import nn
>>> from flambeau.nn.utils import prune
>>> m = nn.Linear(4, 2)
>>> with flambeau.no_grad():
...     _ = m.weight.copy_(flambeau.tensor([[1.0, -5.0, 2.0, 0.5], [3.0, 0.1, -4.0, 6.0]]))
>>> _ = prune.l1_unstructured(m, "weight", amount=0.5)
>>> m.weight_mask
tensor([[0., 1., 0., 0.],
        [1., 0., 1., 1.]])
>>> sorted(m.state_dict())
['bias', 'weight_mask', 'weight_orig']
>>> _ = prune.remove(m, "weight"); sorted(m.state_dict())
['bias', 'weight']
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

import flambeau
from flambeau.nn.utils.convert_parameters import parameters_to_vector

__all__ = [
    "BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured",
    "PruningContainer", "RandomStructured", "RandomUnstructured", "custom_from_mask",
    "global_unstructured", "identity", "is_pruned", "l1_unstructured", "ln_structured",
    "random_structured", "random_unstructured", "remove",
]


class BasePruningMethod(ABC):
    """The base of pruning methods: subclasses define :meth:`compute_mask` and
    ``PRUNING_TYPE`` (``"unstructured"``, ``"structured"`` or ``"global"``, which tells a
    :class:`PruningContainer` what part of the tensor a further pruning looks at).

    An instance applied to a module is that module's forward pre-hook: before each call it
    sets ``module.<name>`` to ``<name>_orig * <name>_mask``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils import prune
    >>> class KeepPositive(prune.BasePruningMethod):
    ...     PRUNING_TYPE = "unstructured"
    ...     def compute_mask(self, t, default_mask):
    ...         return default_mask * (t > 0)
    >>> KeepPositive().prune(flambeau.tensor([1.0, -2.0, 3.0]))
    tensor([1., -0., 3.])
    """

    #: the parameter this method prunes, set by :meth:`apply`
    _tensor_name = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask of ``t``: ``default_mask`` (the current mask, same shape as ``t``)
        with this method's entries zeroed.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.nn.utils import prune
        >>> prune.L1Unstructured(amount=1).compute_mask(flambeau.tensor([2.0, -1.0]),
        ...                                             flambeau.ones(2))
        tensor([1., 0.])
        """

    def apply_mask(self, module):
        """``<name>_orig * <name>_mask`` of ``module``: the pruned tensor.

        Raises
        ------
        RuntimeError
            When this method was never applied to a module.

        Examples
        --------
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import prune
        >>> m = prune.identity(nn.Linear(2, 2), "bias")
        >>> hook = next(iter(m._forward_pre_hooks.values()))
        >>> bool((hook.apply_mask(m) == m.bias_orig).all())
        True
        """
        if self._tensor_name is None:
            raise RuntimeError(f"{type(self).__name__}.apply_mask: the method was never applied "
                               f"to a module (use {type(self).__name__}.apply(module, name, ...))")
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask.to(dtype=orig.dtype)

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``; returns the method.

        The mask is computed from ``importance_scores`` (same shape as the parameter;
        default: the parameter's current value) before ``module`` changes, so a bad argument
        leaves the module as it was. A parameter pruned before is pruned further: the hook
        becomes a :class:`PruningContainer` of the methods applied so far.

        Raises
        ------
        ValueError
            When ``importance_scores`` has another shape than the parameter, or the method's
            arguments are invalid for it (see each method).
        AttributeError
            When ``module`` has no attribute ``name``.

        Examples
        --------
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import prune
        >>> m = nn.Linear(3, 2)
        >>> method = prune.RandomUnstructured.apply(m, "weight", amount=2)
        >>> int((m.weight_mask == 0).sum())
        2
        """
        orig = getattr(module, name)
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(orig.shape):
            raise ValueError(f"prune: importance_scores should have the same shape as parameter "
                             f"{name} of {module}, got {tuple(importance_scores.shape)} vs "
                             f"{tuple(orig.shape)}")
        method = cls(*args, **kwargs)
        method._tensor_name = name
        hook_id, previous = _pruning_hook(module, name)
        if previous is None:
            default_mask = flambeau.ones_like(orig)
        else:
            default_mask = module._buffers[name + "_mask"].detach().clone()
            container = previous if isinstance(previous, PruningContainer) else \
                PruningContainer(previous)
            container.add_pruning_method(method)
            method = container
        with flambeau.no_grad():  # the mask is a constant of the graph
            mask = method.compute_mask(orig if importance_scores is None else importance_scores,
                                       default_mask=default_mask)
        # the module changes only from here on, once the mask is known
        if previous is None:
            del module._parameters[name]
            module.register_parameter(name + "_orig", orig)
        else:
            del module._forward_pre_hooks[hook_id]
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` with this method's mask applied (the mask computed from
        ``importance_scores``, default ``t``, on top of ``default_mask``, default all ones).

        Raises
        ------
        ValueError
            When ``importance_scores`` has another shape than ``t``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.nn.utils import prune
        >>> prune.L1Unstructured(amount=2).prune(flambeau.tensor([3.0, -1.0, 2.0, 0.5]))
        tensor([3., -0., 2., 0.])
        """
        if importance_scores is None:
            importance_scores = t
        elif tuple(importance_scores.shape) != tuple(t.shape):
            raise ValueError(f"{type(self).__name__}.prune: importance_scores should have the "
                             f"same shape as t, got {tuple(importance_scores.shape)} vs "
                             f"{tuple(t.shape)}")
        if default_mask is None:
            default_mask = flambeau.ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module):
        """Make the pruning of ``module`` permanent: the parameter ``<name>`` holds the
        pruned values, and ``<name>_orig`` and ``<name>_mask`` are gone. The hook itself is
        removed by the function :func:`remove`.

        Examples
        --------
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import prune
        >>> m = prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=4)
        >>> hook = next(iter(m._forward_pre_hooks.values()))
        >>> hook.remove(m); m.weight.abs().sum().item()
        0.0
        """
        pruned = self.apply_mask(module)
        name = self._tensor_name
        orig = module._parameters[name + "_orig"]
        if name in module.__dict__:
            delattr(module, name)
        orig.data = pruned.data
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


def _pruning_hook(module, name):
    """``(id, hook)`` of the pruning hook of ``module.<name>``, or ``(None, None)``."""
    for hook_id, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            return hook_id, hook
    return None, None


class PruningContainer(BasePruningMethod):
    """The successive pruning methods of one parameter; a new one prunes what the earlier
    ones kept (the entries still at 1 for an ``"unstructured"`` method, the channels not
    entirely pruned for a ``"structured"`` one, the whole tensor for a ``"global"`` one).

    Parameters
    ----------
    *args : BasePruningMethod or iterable of them
        The methods, in the order they were applied; all on the same parameter.

    Raises
    ------
    TypeError
        When an argument is not a pruning method.
    ValueError
        When the methods prune different parameters.

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import prune
    >>> m = nn.Linear(4, 3)
    >>> _ = prune.l1_unstructured(m, "weight", amount=2)
    >>> _ = prune.ln_structured(m, "weight", amount=1, n=2, dim=0)
    >>> container = next(iter(m._forward_pre_hooks.values()))
    >>> [type(method).__name__ for method in container]
    ['L1Unstructured', 'LnStructured']
    """

    def __init__(self, *args):
        self._pruning_methods = ()
        methods = args[0] if len(args) == 1 and isinstance(args[0], Iterable) else args
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        """Append ``method`` (applied after the ones already held).

        Raises
        ------
        TypeError
            When ``method`` is not a pruning method.
        ValueError
            When ``method`` prunes another parameter than the container's.

        Examples
        --------
        >>> from flambeau.nn.utils import prune
        >>> c = prune.PruningContainer()
        >>> c.add_pruning_method(prune.Identity()); len(c)
        1
        """
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"PruningContainer: {type(method).__name__} is not a "
                            f"BasePruningMethod subclass")
        if not self._pruning_methods and self._tensor_name is None:
            self._tensor_name = method._tensor_name
        elif method._tensor_name != self._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        """The mask after the last method, which prunes only what ``default_mask`` kept
        (see the class).

        Raises
        ------
        ValueError
            When the last method's ``PRUNING_TYPE`` is unknown.
        AttributeError
            When a ``"structured"`` method has no ``dim``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.nn.utils import prune
        >>> c = prune.PruningContainer(prune.L1Unstructured(amount=1))
        >>> c.compute_mask(flambeau.tensor([1.0, 2.0, 3.0]), flambeau.tensor([0.0, 1.0, 1.0]))
        tensor([0., 0., 1.])
        """
        method = self._pruning_methods[-1]
        kept = _kept_part(method, t, default_mask)
        new_mask = default_mask.to(dtype=t.dtype, copy=True)
        partial = method.compute_mask(t[kept], default_mask=default_mask[kept])
        new_mask[kept] = partial.to(dtype=new_mask.dtype)
        return new_mask


def _kept_part(method, t, mask):
    """The index of the part of ``t`` that ``method`` prunes when ``mask`` is in force."""
    kind = getattr(method, "PRUNING_TYPE", None)
    if kind == "unstructured":
        return mask == 1
    if kind == "global":
        return (Ellipsis,)
    if kind != "structured":
        raise ValueError(f"PruningContainer: unrecognized PRUNING_TYPE {kind!r} of "
                         f"{type(method).__name__} (expected 'unstructured', 'structured' or "
                         f"'global')")
    if not hasattr(method, "dim"):
        raise AttributeError(f"PruningContainer: pruning methods of PRUNING_TYPE 'structured' "
                             f"need the attribute `dim` ({type(method).__name__} has none)")
    dim = method.dim + t.dim() if method.dim < 0 else method.dim
    if not 0 <= dim < t.dim():
        raise IndexError(f"PruningContainer: dim {method.dim} is out of bounds for a tensor "
                         f"of shape {tuple(t.shape)}")
    others = [d for d in range(t.dim()) if d != dim]
    keep_channel = mask.sum(dim=others) != 0 if others else mask != 0
    return (slice(None),) * dim + (keep_channel,)


# ------------------------------------------------------------------ amounts


def _check_amount(amount):
    """The checks of ``amount`` that need no tensor (at construction)."""
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= amount <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         f"non-negative integer")


def _count_to_prune(amount, size):
    """How many of ``size`` entries (or channels) ``amount`` prunes."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters "
                             f"to prune={size}")
        return int(amount)
    return round(amount * size)


def _check_structured(t, dim):
    if t.dim() <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {tuple(t.shape)} with {t.dim()} dims")
    if dim >= t.dim() or dim < -t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")


def _zero_at(default_mask, flat_indices):
    """``default_mask`` with the entries at ``flat_indices`` (of its flattened form) zeroed."""
    flat = default_mask.reshape(-1).clone()
    flat[flat_indices] = 0
    return flat.reshape(default_mask.shape)


def _keep_channels(default_mask, dim, kept_channels):
    """``default_mask`` with every channel along ``dim`` but ``kept_channels`` zeroed."""
    keep = flambeau.zeros(default_mask.shape[dim], dtype=default_mask.dtype,
                          device=default_mask.device)
    keep[kept_channels] = 1
    shape = [1] * default_mask.dim()
    shape[dim] = -1
    return default_mask * keep.reshape(shape)


# ------------------------------------------------------------------ methods


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (a parameter that looks pruned, e.g. to load a
    pruned checkpoint).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils import prune
    >>> prune.Identity().prune(flambeau.tensor([1.0, 2.0]))
    tensor([1., 2.])
    """

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        """Prune ``module.<name>`` with an all-ones mask.

        Examples
        --------
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import prune
        >>> m = nn.Linear(2, 1)
        >>> _ = prune.Identity.apply(m, "bias"); m.bias_mask
        tensor([1.])
        """
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries chosen uniformly at random (from flambeau's generator).

    Parameters
    ----------
    amount : int or float
        The number of entries, or the fraction in ``[0, 1]`` of them, to prune.

    Raises
    ------
    TypeError
        When ``amount`` is not a number.
    ValueError
        When ``amount`` is a negative int or a float outside ``[0, 1]``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils import prune
    >>> mask = prune.RandomUnstructured(amount=0.5).compute_mask(flambeau.ones(4),
    ...                                                          flambeau.ones(4))
    >>> mask.sum().item()
    2.0
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        count = _count_to_prune(self.amount, t.numel())
        if count == 0:
            return default_mask.clone()
        scores = flambeau.rand(t.numel(), device=t.device)
        return _zero_at(default_mask, flambeau.topk(scores, count).indices)

    @classmethod
    def apply(cls, module, name, amount):
        """Prune ``amount`` random entries of ``module.<name>``.

        Examples
        --------
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import prune
        >>> m = nn.Linear(5, 2)
        >>> _ = prune.RandomUnstructured.apply(m, "weight", amount=0.3)
        >>> int((m.weight_mask == 0).sum())
        3
        """
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest absolute value.

    Parameters
    ----------
    amount : int or float
        The number of entries, or the fraction in ``[0, 1]`` of them, to prune.

    Raises
    ------
    TypeError
        When ``amount`` is not a number.
    ValueError
        When ``amount`` is a negative int or a float outside ``[0, 1]``, or an int larger
        than the number of entries.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils import prune
    >>> prune.L1Unstructured(amount=1).compute_mask(flambeau.tensor([2.0, -0.5, 1.0]),
    ...                                             flambeau.ones(3))
    tensor([1., 0., 1.])
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        count = _count_to_prune(self.amount, t.numel())
        if count == 0:
            return default_mask.clone()
        smallest = flambeau.topk(t.abs().reshape(-1), count, largest=False).indices
        return _zero_at(default_mask, smallest)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        """Prune the ``amount`` entries of ``module.<name>`` (or of ``importance_scores``)
        of smallest absolute value.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import prune
        >>> m = nn.Linear(3, 1)
        >>> _ = prune.L1Unstructured.apply(m, "weight", amount=1,
        ...                                importance_scores=flambeau.tensor([[3.0, 1.0, 2.0]]))
        >>> m.weight_mask
        tensor([[1., 0., 1.]])
        """
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` whole channels along ``dim``, chosen uniformly at random.

    Parameters
    ----------
    amount : int or float
        The number of channels, or the fraction in ``[0, 1]`` of them, to prune.
    dim : int
        The dimension of the channels (default -1).

    Raises
    ------
    TypeError
        When ``amount`` is not a number.
    ValueError
        When ``amount`` is invalid, or the tensor has fewer than two dimensions.
    IndexError
        When ``dim`` is out of range for the tensor.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils import prune
    >>> mask = prune.RandomStructured(amount=1, dim=0).compute_mask(flambeau.ones(3, 2),
    ...                                                             flambeau.ones(3, 2))
    >>> sorted(mask.sum(1).tolist())
    [0.0, 2.0, 2.0]
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _check_amount(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        _check_structured(t, self.dim)
        channels = t.shape[self.dim]
        count = _count_to_prune(self.amount, channels)
        if count == 0:
            return default_mask
        scores = flambeau.rand(channels, device=t.device)
        kept = flambeau.topk(scores, channels - count).indices
        return _keep_channels(default_mask, self.dim, kept)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        """Prune ``amount`` random channels of ``module.<name>`` along ``dim``.

        Examples
        --------
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import prune
        >>> m = nn.Linear(3, 4)
        >>> _ = prune.RandomStructured.apply(m, "weight", amount=0.5, dim=0)
        >>> int((m.weight_mask.sum(1) == 0).sum())
        2
        """
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels along ``dim`` of smallest ``n``-norm (the norm over
    every other dimension, as :func:`flambeau.norm` with ``p=n``).

    Parameters
    ----------
    amount : int or float
        The number of channels, or the fraction in ``[0, 1]`` of them, to prune.
    n : int, float, inf, -inf, "fro" or "nuc"
        The order of the norm.
    dim : int
        The dimension of the channels (default -1).

    Raises
    ------
    TypeError
        When ``amount`` is not a number.
    ValueError
        When ``amount`` is invalid, or the tensor has fewer than two dimensions.
    IndexError
        When ``dim`` is out of range for the tensor.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils import prune
    >>> w = flambeau.tensor([[1.0, 1.0], [0.1, 0.2], [3.0, 0.0]])
    >>> prune.LnStructured(amount=1, n=1, dim=0).compute_mask(w, flambeau.ones(3, 2))
    tensor([[1., 1.],
            [0., 0.],
            [1., 1.]])
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _check_amount(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t, default_mask):
        _check_structured(t, self.dim)
        channels = t.shape[self.dim]
        count = _count_to_prune(self.amount, channels)
        if count == 0:
            return default_mask
        dim = self.dim % t.dim()
        norms = flambeau.norm(t, p=self.n, dim=[d for d in range(t.dim()) if d != dim])
        kept = flambeau.topk(norms, channels - count).indices
        return _keep_channels(default_mask, dim, kept)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        """Prune the ``amount`` channels of ``module.<name>`` (or of ``importance_scores``)
        along ``dim`` of smallest ``n``-norm.

        Examples
        --------
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import prune
        >>> m = nn.Conv2d(1, 4, 3)
        >>> _ = prune.LnStructured.apply(m, "weight", amount=2, n=2, dim=0)
        >>> int((m.weight_mask.sum((1, 2, 3)) == 0).sum())
        2
        """
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes the entries where ``mask`` is 0 (a mask of the parameter's shape).

    Raises
    ------
    ValueError
        When ``mask`` and the parameter differ in shape.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils import prune
    >>> prune.CustomFromMask(flambeau.tensor([1, 0, 1])).prune(flambeau.tensor([4.0, 5.0, 6.0]))
    tensor([4., 0., 6.])
    """

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ValueError(f"CustomFromMask: the mask has shape {tuple(self.mask.shape)}, "
                             f"the pruned tensor {tuple(default_mask.shape)}")
        return default_mask * self.mask.to(dtype=default_mask.dtype,
                                           device=default_mask.device)

    @classmethod
    def apply(cls, module, name, mask):
        """Prune the entries of ``module.<name>`` where ``mask`` is 0.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> from flambeau.nn.utils import prune
        >>> m = nn.Linear(2, 2)
        >>> _ = prune.CustomFromMask.apply(m, "bias", mask=flambeau.tensor([0, 1]))
        >>> m.bias[0].abs().item()
        0.0
        """
        return super().apply(module, name, mask=mask)


# ------------------------------------------------------------------ functions


def identity(module, name):
    """Prune nothing of ``module.<name>``, but reparametrize it as pruning does (an
    all-ones ``<name>_mask``); returns ``module``.

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import prune
    >>> m = prune.identity(nn.Linear(2, 3), "bias")
    >>> m.bias_mask
    tensor([1., 1., 1.])
    """
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` entries of ``module.<name>`` chosen at random; returns ``module``.

    Raises
    ------
    TypeError
        When ``amount`` is not a number.
    ValueError
        When ``amount`` is invalid for the parameter.

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import prune
    >>> m = prune.random_unstructured(nn.Linear(2, 3), "weight", amount=0.5)
    >>> int(m.weight_mask.sum())
    3
    """
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` of smallest absolute value (of
    ``importance_scores``, when given); returns ``module``.

    Raises
    ------
    TypeError
        When ``amount`` is not a number.
    ValueError
        When ``amount`` is invalid for the parameter, or ``importance_scores`` has another
        shape.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import prune
    >>> m = nn.Linear(2, 1)
    >>> with flambeau.no_grad():
    ...     _ = m.weight.copy_(flambeau.tensor([[0.3, -2.0]]))
    >>> prune.l1_unstructured(m, "weight", amount=1).weight
    tensor([[ 0., -2.]], grad_fn=<MulBackward0>)
    """
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` channels of ``module.<name>`` along ``dim``, chosen at random;
    returns ``module``.

    Raises
    ------
    TypeError
        When ``amount`` is not a number.
    ValueError
        When ``amount`` is invalid, or the parameter has fewer than two dimensions.
    IndexError
        When ``dim`` is out of range.

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import prune
    >>> m = prune.random_structured(nn.Linear(4, 2), "weight", amount=1, dim=1)
    >>> (m.weight_mask.sum(0) == 0).sum().item()
    1
    """
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` of smallest
    ``n``-norm (of ``importance_scores``, when given); returns ``module``.

    Raises
    ------
    TypeError
        When ``amount`` is not a number.
    ValueError
        When ``amount`` is invalid, the parameter has fewer than two dimensions, or
        ``importance_scores`` has another shape.
    IndexError
        When ``dim`` is out of range.

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import prune
    >>> m = prune.ln_structured(nn.Conv2d(3, 8, 3), "weight", amount=0.25, n=2, dim=0)
    >>> (m.weight_mask.sum((1, 2, 3)) == 0).sum().item()
    2
    """
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune several parameters together: ``pruning_method(**kwargs)`` (an
    ``"unstructured"`` method, e.g. :class:`L1Unstructured`) ranks the entries of all of
    them at once, so that ``amount`` counts the entries of the whole set.

    Parameters
    ----------
    parameters : iterable of (Module, str)
        The parameters to prune.
    pruning_method : type
        A subclass of :class:`BasePruningMethod` with ``PRUNING_TYPE == "unstructured"``.
    importance_scores : dict, optional
        ``{(module, name): scores}``; a parameter without an entry is scored by its value.
    **kwargs
        The method's arguments (``amount=...``).

    Raises
    ------
    TypeError
        When ``parameters`` is not iterable, or the method is not ``"unstructured"``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import prune
    >>> a, b = nn.Linear(2, 1, bias=False), nn.Linear(2, 1, bias=False)
    >>> with flambeau.no_grad():
    ...     _ = a.weight.copy_(flambeau.tensor([[0.1, 5.0]]))
    ...     _ = b.weight.copy_(flambeau.tensor([[0.2, 0.3]]))
    >>> prune.global_unstructured([(a, "weight"), (b, "weight")],
    ...                           pruning_method=prune.L1Unstructured, amount=2)
    >>> a.weight_mask, b.weight_mask
    (tensor([[0., 1.]]), tensor([[0., 1.]]))
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    scores = parameters_to_vector(
        importance_scores.get((module, name), getattr(module, name))
        for module, name in parameters)
    masks = parameters_to_vector(
        getattr(module, name + "_mask") if hasattr(module, name + "_mask")
        else flambeau.ones_like(getattr(module, name))
        for module, name in parameters)
    method._tensor_name = "global"
    with flambeau.no_grad():
        final = PruningContainer(method).compute_mask(scores.detach(), default_mask=masks)
    offset = 0
    for module, name in parameters:
        param = getattr(module, name)
        custom_from_mask(module, name, mask=final[offset:offset + param.numel()].view_as(param))
        offset += param.numel()


def custom_from_mask(module, name, mask):
    """Prune the entries of ``module.<name>`` where ``mask`` is 0; returns ``module``.

    Raises
    ------
    ValueError
        When ``mask`` has another shape than the parameter.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import prune
    >>> m = prune.custom_from_mask(nn.Linear(2, 2), "bias", mask=flambeau.tensor([1, 0]))
    >>> m.bias_mask
    tensor([1., 0.])
    """
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent: ``<name>`` is a parameter again,
    holding the pruned values; ``<name>_orig``, ``<name>_mask`` and the hook are gone.
    Returns ``module``.

    Raises
    ------
    ValueError
        When ``module.<name>`` is not pruned.

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import prune
    >>> m = prune.random_unstructured(nn.Linear(2, 2), "weight", amount=1)
    >>> sorted(dict(prune.remove(m, "weight").named_parameters()))
    ['bias', 'weight']
    """
    hook_id, hook = _pruning_hook(module, name)
    if hook is None:
        raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before "
                         f"pruning can be removed")
    hook.remove(module)
    del module._forward_pre_hooks[hook_id]
    return module


def is_pruned(module):
    """Whether ``module`` or one of its submodules has a pruned parameter.

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import prune
    >>> net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    >>> prune.is_pruned(net)
    False
    >>> _ = prune.identity(net[0], "weight"); prune.is_pruned(net)
    True
    """
    return any(isinstance(hook, BasePruningMethod)
               for sub in module.modules() for hook in sub._forward_pre_hooks.values())
