"""Lazy modules: parameters whose shapes come from the first input, as torch.nn.Lazy*.

A lazy module holds :class:`~flambeau.nn.UninitializedParameter` objects (and
:class:`~flambeau.nn.UninitializedBuffer` running statistics) until its first forward, where
``initialize_parameters(*inputs)`` gives them shapes and initial values. Then it becomes its
``cls_to_become`` (``LazyLinear`` becomes ``Linear``). Loading a state dict into a lazy module
takes the shapes from the loaded tensors.
"""

from __future__ import annotations

import flambeau
from flambeau.nn.modules.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
)
from flambeau.nn.modules.linear import Linear
from flambeau.nn.modules.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)
from flambeau.nn.parameter import UninitializedBuffer, UninitializedParameter

__all__ = [
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d",
    "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
    "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear",
    "LazyModuleMixin",
]


def _infer_parameters(module, args, kwargs=None):
    """The forward pre-hook of a lazy module: materialize, then become the final class."""
    module.initialize_parameters(*args, **(kwargs or {}))
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
        # with the keyword arguments, as torch's: a first call lazy(input=x) has no args
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters,
                                                               with_kwargs=True)

    def has_uninitialized_params(self):
        """Whether a parameter (or buffer) of this module still waits for its shape.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.LazyLinear(3).has_uninitialized_params()
        True
        """
        return (any(isinstance(p, UninitializedParameter) for p in self._parameters.values())
                or any(isinstance(b, UninitializedBuffer) for b in self._buffers.values()))

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

    def _infer_parameters(self, module, args, kwargs=None):
        """The forward pre-hook of a lazy module saved whole by PyTorch, whose pickle names
        it as this method (flambeau's own lazy modules register the function)."""
        _infer_parameters(module, args, kwargs)

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs):
        """The load pre-hook of a lazy module saved whole by PyTorch: nothing to do, as
        flambeau's loading gives uninitialized parameters the loaded shapes itself."""

    def _become_initialized(self):
        self._initialize_hook.remove()
        # the handle's remove() knows the hook table only, not the with_kwargs mark
        self._forward_pre_hooks_with_kwargs.discard(self._initialize_hook.id)
        del self._initialize_hook
        load_hook = self.__dict__.pop("_load_hook", None)  # a module saved by PyTorch
        if load_hook is not None:
            load_hook.remove()
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
        self._lazy_parameters(out_channels, groups, bias, device, dtype)

    def _lazy_parameters(self, out_channels, groups, bias, device, dtype):
        self.out_channels = out_channels
        if out_channels % groups:
            raise ValueError(f"{type(self).__name__}: out_channels ({out_channels}) must be "
                             f"divisible by groups ({groups})")
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def _weight_shape(self, in_channels):
        return (self.out_channels, in_channels // self.groups) + tuple(self.kernel_size)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    # *args: ConvTranspose's output_size
    def initialize_parameters(self, input, *args, **kwargs):
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
            self.weight.materialize(self._weight_shape(in_channels))
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


class _LazyConvTransposeNd(_LazyConvNd):
    """The lazy transposed convolutions; their weight is ``(in, out / groups, *kernel)``."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        # skip _LazyConvNd.__init__: the transposed layers order their arguments differently
        LazyModuleMixin.__init__(self, 0, 0, kernel_size, stride, padding, output_padding,
                                 groups, False, dilation, padding_mode)
        self._lazy_parameters(out_channels, groups, bias, device, dtype)

    def _weight_shape(self, in_channels):
        return (in_channels, self.out_channels // self.groups) + tuple(self.kernel_size)

    def _shapes_loaded(self):
        self.in_channels = self.weight.shape[0]


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """A :class:`ConvTranspose1d` whose ``in_channels`` comes from its first input.

    Parameters
    ----------
    out_channels : int
        Channels of the output.
    kernel_size, stride, padding, output_padding, dilation : int or tuple
        As in :class:`ConvTranspose1d`.
    groups : int
        Channel groups (``in_channels``, once known, must be divisible by it).
    bias : bool
        Whether to learn an additive bias.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> up = nn.LazyConvTranspose1d(2, 3, stride=2)
    >>> up
    LazyConvTranspose1d(0, 2, kernel_size=(3,), stride=(2,))
    >>> up(flambeau.ones(1, 4, 5)).shape, up
    (flambeau.Size([1, 2, 11]), ConvTranspose1d(4, 2, kernel_size=(3,), stride=(2,)))
    """

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """A :class:`ConvTranspose2d` whose ``in_channels`` comes from its first input.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> up = nn.LazyConvTranspose2d(4, 3, stride=2, padding=1, output_padding=1)
    >>> up(flambeau.ones(1, 8, 5, 5)).shape, tuple(up.weight.shape)
    (flambeau.Size([1, 4, 10, 10]), (8, 4, 3, 3))
    """

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """A :class:`ConvTranspose3d` whose ``in_channels`` comes from its first input.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> up = nn.LazyConvTranspose3d(2, 2, stride=2)
    >>> up(flambeau.ones(1, 3, 2, 2, 2)).shape, up.in_channels
    (flambeau.Size([1, 2, 4, 4, 4]), 3)
    """

    cls_to_become = ConvTranspose3d


class _LazyNormBase(LazyModuleMixin):
    """The lazy batch and instance norms: ``num_features`` from the first input's channels.

    The affine parameters and running statistics wait, uninitialized, for that count.
    """

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        # built without parameters or statistics, then given uninitialized ones in place
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=bias)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.register_buffer("running_mean", UninitializedBuffer(device=device, dtype=dtype))
            self.register_buffer("running_var", UninitializedBuffer(device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 flambeau.tensor(0, dtype=flambeau.int64, device=device))

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        self._check_input(input)
        # the channel count is needed even without parameters: the final class checks it
        self.num_features = self._channels(input)
        if not self.has_uninitialized_params():
            return
        with flambeau.no_grad():
            for t in (self.weight, self.bias, self.running_mean, self.running_var):
                if t is not None:
                    t.materialize((self.num_features,))
            self.reset_parameters()

    def _state_loaded(self):
        if self.weight is None and self.running_mean is None:
            return  # nothing loaded carries the channel count: wait for the first input
        super()._state_loaded()

    def _shapes_loaded(self):
        source = self.weight if self.weight is not None else self.running_mean
        self.num_features = source.shape[0]


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """A :class:`BatchNorm1d` whose ``num_features`` is its first input's channel count.

    Parameters
    ----------
    eps, momentum, affine, track_running_stats : optional
        As in :class:`BatchNorm1d`.
    device, dtype : optional
        Where and in which floating dtype to create the parameters and statistics.
    bias : bool, keyword-only
        Learn the shift (with ``affine``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> bn = nn.LazyBatchNorm1d()
    >>> bn
    LazyBatchNorm1d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> bn(flambeau.randn(8, 3)).shape, tuple(bn.running_mean.shape)
    (flambeau.Size([8, 3]), (3,))
    >>> type(bn).__name__, bn.num_features
    ('BatchNorm1d', 3)
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """A :class:`BatchNorm2d` whose ``num_features`` is its first input's channel count.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> bn = nn.LazyBatchNorm2d()
    >>> bn(flambeau.randn(2, 4, 3, 3)).shape
    flambeau.Size([2, 4, 3, 3])
    >>> list(bn.state_dict())
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    """

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """A :class:`BatchNorm3d` whose ``num_features`` is its first input's channel count.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> bn = nn.LazyBatchNorm3d()
    >>> bn(flambeau.randn(2, 2, 1, 2, 2)).shape, bn.num_features
    (flambeau.Size([2, 2, 1, 2, 2]), 2)
    """

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNormBase, InstanceNorm1d):
    """An :class:`InstanceNorm1d` whose ``num_features`` comes from its first input.

    As in PyTorch, ``affine`` and ``track_running_stats`` default to True here (False in
    :class:`InstanceNorm1d`). An unbatched ``(C, L)`` input gives ``C`` channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> norm = nn.LazyInstanceNorm1d()
    >>> norm(flambeau.randn(3, 5)).shape, tuple(norm.weight.shape)
    (flambeau.Size([3, 5]), (3,))
    """

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, InstanceNorm2d):
    """An :class:`InstanceNorm2d` whose ``num_features`` comes from its first input.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> norm = nn.LazyInstanceNorm2d(affine=False, track_running_stats=False)
    >>> norm(flambeau.randn(2, 3, 4, 4)).shape, norm.num_features
    (flambeau.Size([2, 3, 4, 4]), 3)
    """

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormBase, InstanceNorm3d):
    """An :class:`InstanceNorm3d` whose ``num_features`` comes from its first input.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> norm = nn.LazyInstanceNorm3d()
    >>> norm(flambeau.randn(1, 2, 2, 2, 3)).shape, norm.num_features
    (flambeau.Size([1, 2, 2, 2, 3]), 2)
    """

    cls_to_become = InstanceNorm3d
