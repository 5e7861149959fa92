"""Lazy modules: parameters whose shapes come from the first input, as torch.nn.Lazy*.

A lazy module holds :class:`~flambeau.nn.UninitializedParameter` objects until its first
forward, where ``initialize_parameters(*inputs)`` gives them shapes and initial values.
Then it becomes its ``cls_to_become`` (``LazyLinear`` becomes ``Linear``). Loading a state
dict into a lazy module takes the shapes from the loaded tensors.
"""

from __future__ import annotations

import flambeau
from flambeau.nn.modules.conv import Conv1d, Conv2d, Conv3d
from flambeau.nn.modules.linear import Linear
from flambeau.nn.parameter import UninitializedParameter

__all__ = ["LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyLinear", "LazyModuleMixin"]


def _infer_parameters(module, args):
    """The forward pre-hook of a lazy module: materialize, then become the final class."""
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"{type(module).__name__}: parameters left uninitialized by "
                           "initialize_parameters")
    module._become_initialized()


class LazyModuleMixin:
    """Mixin of the lazy modules: infers parameter shapes at the first forward.

    Subclasses implement ``initialize_parameters(*inputs)`` and ``_shapes_loaded()`` (what
    follows from parameters loaded from a state dict) and name ``cls_to_become``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> fc = nn.LazyLinear(3)
    >>> fc.has_uninitialized_params()
    True
    >>> fc(flambeau.ones(2, 5)).shape, type(fc).__name__
    (flambeau.Size([2, 3]), 'Linear')
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self):
        """Whether a parameter of this module still waits for its shape.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.LazyLinear(3).has_uninitialized_params()
        True
        """
        return any(isinstance(p, UninitializedParameter)
                   for p in self._parameters.values() if p is not None)

    def initialize_parameters(self, *args, **kwargs):
        """Give the parameters shapes from the first inputs (implemented by subclasses).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> fc = nn.LazyLinear(3)
        >>> fc.initialize_parameters(flambeau.ones(1, 4))
        >>> tuple(fc.weight.shape)
        (3, 4)
        """
        raise NotImplementedError

    def _become_initialized(self):
        self._initialize_hook.remove()
        del self._initialize_hook
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def _state_loaded(self):
        """Called by ``load_state_dict`` once loading gave every parameter its shape."""
        if not self.has_uninitialized_params() and hasattr(self, "_initialize_hook"):
            self._shapes_loaded()
            self._become_initialized()


class LazyLinear(LazyModuleMixin, Linear):
    """A :class:`Linear` whose ``in_features`` is the last dimension of its first input.

    Parameters
    ----------
    out_features : int
        Size of each output sample.
    bias : bool
        Whether to learn an additive bias (default True).
    device, dtype : optional
        Where and in which floating dtype to create the parameters.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> fc = nn.LazyLinear(4)
    >>> fc
    LazyLinear(in_features=0, out_features=4, bias=True)
    >>> fc(flambeau.ones(2, 7)).shape, fc
    (flambeau.Size([2, 4]), Linear(in_features=7, out_features=4, bias=True))
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.out_features = out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        """Linear's initialization once the shapes are known (nothing before).

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.LazyLinear(2).reset_parameters()  # nothing to draw yet
        """
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            with flambeau.no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()

    def _shapes_loaded(self):
        self.in_features = self.weight.shape[1]


class _LazyConvNd(LazyModuleMixin):
    """The lazy convolutions: ``in_channels`` from the first input's channel dimension."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode)
        self.out_channels = out_channels
        if out_channels % groups:
            raise ValueError(f"{type(self).__name__}: out_channels ({out_channels}) must be "
                             f"divisible by groups ({groups})")
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if not self.has_uninitialized_params():
            return
        batched = input.ndim == self._nd + 2
        if input.ndim not in (self._nd + 1, self._nd + 2):
            raise RuntimeError(
                f"{type(self).__name__}: expected a {self._nd + 1}D (unbatched) or "
                f"{self._nd + 2}D (batched) input, got shape {tuple(input.shape)}")
        in_channels = input.shape[1] if batched else input.shape[0]
        if in_channels % self.groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({in_channels}) must be "
                             f"divisible by groups ({self.groups})")
        with flambeau.no_grad():
            self.in_channels = in_channels
            self.weight.materialize((self.out_channels, in_channels // self.groups)
                                    + tuple(self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _shapes_loaded(self):
        self.in_channels = self.weight.shape[1] * self.groups


class LazyConv1d(_LazyConvNd, Conv1d):
    """A :class:`Conv1d` whose ``in_channels`` comes from its first input.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> conv = nn.LazyConv1d(4, 3)
    >>> conv(flambeau.ones(2, 5, 10)).shape, conv.in_channels
    (flambeau.Size([2, 4, 8]), 5)
    """

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    """A :class:`Conv2d` whose ``in_channels`` comes from its first input.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> conv = nn.LazyConv2d(8, 3, padding=1)
    >>> conv(flambeau.ones(1, 3, 6, 6)).shape, type(conv).__name__
    (flambeau.Size([1, 8, 6, 6]), 'Conv2d')
    """

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvNd, Conv3d):
    """A :class:`Conv3d` whose ``in_channels`` comes from its first input.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.LazyConv3d(2, 1)(flambeau.ones(1, 4, 2, 2, 2)).shape
    flambeau.Size([1, 2, 2, 2, 2])
    """

    cls_to_become = Conv3d
