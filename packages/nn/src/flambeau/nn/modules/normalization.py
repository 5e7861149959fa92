"""Normalization layers: BatchNorm, LayerNorm, GroupNorm, InstanceNorm, LocalResponseNorm,
RMSNorm."""

from __future__ import annotations

import math
import numbers

import flambeau
import flambeau.nn.functional as F
from flambeau.nn import init
from flambeau.nn.modules.module import Module
from flambeau.nn.parameter import Parameter

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d",
    "InstanceNorm2d", "InstanceNorm3d", "LayerNorm", "LocalResponseNorm", "RMSNorm",
    "CrossMapLRN2d",
]


class _NormBase(Module):
    """Per-channel affine parameters and running statistics, as PyTorch lays them out."""

    _ranks: tuple = ()
    #: as torch's: version 2 added the ``num_batches_tracked`` buffer, which a state dict of
    #: an older version (or without ``_metadata``) may lack
    _version = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        kw = {"device": device, "dtype": dtype}
        self.register_parameter(
            "weight", Parameter(flambeau.empty(num_features, **kw)) if affine else None)
        self.register_parameter(
            "bias", Parameter(flambeau.empty(num_features, **kw)) if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", flambeau.zeros(num_features, **kw))
            self.register_buffer("running_var", flambeau.ones(num_features, **kw))
            self.register_buffer("num_batches_tracked",
                                 flambeau.tensor(0, dtype=flambeau.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # before version 2 there was no num_batches_tracked: keep the current one
        version = local_metadata.get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats \
                and key not in state_dict:
            tracked = self.num_batches_tracked
            state_dict[key] = tracked if tracked is not None else flambeau.tensor(
                0, dtype=flambeau.int64)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def reset_running_stats(self):
        """Zero the running mean, fill the running variance with ones, reset the counter."""
        if self.track_running_stats:
            with flambeau.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """Reset the running statistics and set weight to ones and bias to zeros."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, input):
        if input._data.ndim not in self._ranks:
            ranks = " or ".join(f"{r}D" for r in self._ranks)
            raise ValueError(f"{self._get_name()}: expected {ranks} input (got {input.ndim}D "
                             f"input of shape {tuple(input.shape)})")

    def _channels(self, input):
        return input.shape[1]

    def _check_channels(self, input):
        c = self._channels(input)
        if c != self.num_features:
            raise ValueError(f"{self._get_name()} expected input with {self.num_features} "
                             f"channels, got {c} (input shape {tuple(input.shape)})")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input(input)
        self._check_channels(input)
        factor = 0.0 if self.momentum is None else self.momentum
        # each buffer read once (Module.__getattr__ looks them up)
        running_mean, running_var = self.running_mean, self.running_var
        tracked = self.num_batches_tracked
        if self.training and self.track_running_stats and tracked is not None:
            a = input._data
            c = a.shape[1] if a.ndim > 1 else 0
            # a rejected batch (one value per channel) must not advance it; an empty one does
            if (a.size // c if c else math.prod(a.shape[:1] + a.shape[2:])) != 1:
                with flambeau.no_grad():
                    tracked.add_(1)
            factor = 1.0 / float(tracked) if self.momentum is None else self.momentum
        use_batch = self.training or (running_mean is None and running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(input, running_mean if keep else None,
                            running_var if keep else None, self.weight, self.bias,
                            use_batch, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization over ``(N, C)`` or ``(N, C, L)`` inputs.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float
        Added to the variance for stability.
    momentum : float or None
        The running statistics' update factor; None uses the cumulative average.
    affine : bool
        Learn a per-channel scale (``weight``) and shift (``bias``).
    track_running_stats : bool
        Keep ``running_mean``, ``running_var`` and ``num_batches_tracked`` buffers (used in
        eval mode); without them the batch statistics are always used.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> bn = nn.BatchNorm1d(3)
    >>> bn(flambeau.randn(8, 3)).shape, bn.num_batches_tracked
    (flambeau.Size([8, 3]), tensor(1))
    >>> bn
    BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over ``(N, C, H, W)`` inputs (see :class:`BatchNorm1d`).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> bn = nn.BatchNorm2d(2).eval()
    >>> bn(flambeau.ones(1, 2, 2, 2)).shape
    flambeau.Size([1, 2, 2, 2])
    """

    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization over ``(N, C, D, H, W)`` inputs (see :class:`BatchNorm1d`).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.BatchNorm3d(2)(flambeau.randn(2, 2, 1, 2, 2)).shape
    flambeau.Size([2, 2, 1, 2, 2])
    """

    _ranks = (5,)


class _InstanceNorm(_NormBase):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # before PyTorch 0.4 instance norms tracked running stats by default; a state dict with
        # no version may still hold them: an error (as torch's), not two unexpected keys
        if local_metadata.get("version") is None and not self.track_running_stats:
            keys = [prefix + n for n in ("running_mean", "running_var") if prefix + n in state_dict]
            if keys:
                name, quoted = self._get_name(), " and ".join(f'"{k}"' for k in keys)
                error_msgs.append(
                    f"Unexpected running stats buffer(s) {quoted} for "
                    f"{name} with track_running_stats=False: a state dict saved before PyTorch "
                    f"0.4.0 may hold them, as {name} tracked them by default then. Remove these "
                    f"keys from the state dict, or create {name} with "
                    f"track_running_stats=True to use them")
                for key in keys:
                    del state_dict[key]
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def _channels(self, input):
        return input.shape[0] if input.ndim == self._ranks[0] else input.shape[1]

    def forward(self, input):
        self._check_input(input)
        unbatched = input.ndim == self._ranks[0]
        if unbatched:
            input = input.unsqueeze(0)
        self._check_channels(input)
        use_input_stats = self.training or not self.track_running_stats
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                              self.bias, use_input_stats, self.momentum or 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization over ``(N, C, L)`` or unbatched ``(C, L)`` inputs.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.InstanceNorm1d(2)(flambeau.randn(4, 2, 5)).shape
    flambeau.Size([4, 2, 5])
    """

    _ranks = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization over ``(N, C, H, W)`` or unbatched ``(C, H, W)`` inputs.

    Parameters are as for :class:`BatchNorm1d`, with ``affine`` and
    ``track_running_stats`` off by default.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.InstanceNorm2d(3, affine=True)(flambeau.randn(2, 3, 4, 4)).shape
    flambeau.Size([2, 3, 4, 4])
    """

    _ranks = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization over ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` inputs.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.InstanceNorm3d(1)(flambeau.randn(1, 1, 2, 2, 2)).shape
    flambeau.Size([1, 1, 2, 2, 2])
    """

    _ranks = (4, 5)


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` dimensions, with elementwise affine.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> ln = nn.LayerNorm(4)
    >>> ln(flambeau.randn(2, 3, 4)).shape, ln
    (flambeau.Size([2, 3, 4]), LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True))
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        kw = {"device": device, "dtype": dtype}
        if elementwise_affine:
            self.weight = Parameter(flambeau.empty(self.normalized_shape, **kw))
            if bias:
                self.bias = Parameter(flambeau.empty(self.normalized_shape, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight to ones, bias to zeros."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Root mean square normalization over the trailing ``normalized_shape`` dimensions.

    ``y = x / sqrt(mean(x ** 2) + eps) * weight`` (no centring, no bias), as
    ``torch.nn.RMSNorm``.

    Parameters
    ----------
    normalized_shape : int or sequence of int
        The trailing dimensions to normalize over.
    eps : float, optional
        Added to the mean square; None uses ``flambeau.finfo(input.dtype).eps``.
    elementwise_affine : bool
        Learn a per-element scale ``weight`` of shape ``normalized_shape`` (initialized to
        ones).
    device, dtype : optional
        Where and in which floating dtype to create ``weight``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> norm = nn.RMSNorm(4)
    >>> norm
    RMSNorm((4,), eps=None, elementwise_affine=True)
    >>> norm(flambeau.randn(2, 3, 4)).shape, list(norm.state_dict())
    (flambeau.Size([2, 3, 4]), ['weight'])
    >>> nn.RMSNorm(2, eps=0.0)(flambeau.tensor([[3.0, 4.0]]))
    tensor([[0.8485, 1.1314]], grad_fn=<MulBackward0>)
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(flambeau.empty(self.normalized_shape, device=device,
                                                   dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight to ones.

        Examples
        --------
        >>> from flambeau import nn
        >>> norm = nn.RMSNorm(2)
        >>> norm.reset_parameters()
        >>> norm.weight
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
        """
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalize groups of channels of each sample, with per-channel affine.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> gn = nn.GroupNorm(2, 4)
    >>> gn(flambeau.randn(3, 4, 5)).shape, gn
    (flambeau.Size([3, 4, 5]), GroupNorm(2, 4, eps=1e-05, affine=True, bias=True))
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        kw = {"device": device, "dtype": dtype}
        self.register_parameter(
            "weight", Parameter(flambeau.empty(num_channels, **kw)) if affine else None)
        self.register_parameter(
            "bias", Parameter(flambeau.empty(num_channels, **kw)) if affine and bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight to ones, bias to zeros."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm expected input with {self.num_channels} channels, got "
                             f"input shape {tuple(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class CrossMapLRN2d(Module):
    """Lua Torch's cross-channel response normalization of ``(N, C, H, W)`` inputs.

    ``y = x * (k + alpha / size * s) ** -beta`` where, with ``h = (size + 1) // 2``, ``s``
    sums ``x ** 2`` over the channels ``[c - h + 1, c + h - 1]`` clipped to the input (``size``
    rounded up to odd). As in PyTorch's legacy kernel, whose running sum never drops channel
    0, channel 0 also counts for every channel ``c >= h``. These are PyTorch's values; the
    gradient is the exact one of these values (PyTorch's own backward is an approximation
    that fails gradcheck and errors for ``size=1``). Prefer :class:`LocalResponseNorm` in new
    code.

    Parameters
    ----------
    size : int
        The number of neighbouring channels (rounded up to odd).
    alpha, beta, k : float
        The scale, exponent and additive constant.

    Raises
    ------
    ValueError
        The input is not 4D.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> lrn = nn.CrossMapLRN2d(3, alpha=0.5, beta=1.0, k=2)
    >>> lrn(flambeau.ones(1, 3, 1, 1)).flatten()
    tensor([0.4286, 0.4000, 0.4000])
    >>> lrn
    CrossMapLRN2d(3, alpha=0.5, beta=1.0, k=2)
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D "
                             f"instead (input shape {tuple(input.shape)}).")
        c = input.shape[1]
        half = (self.size + 1) // 2
        sq = input * input
        # prefix sums over channels, with a leading zero: window sums by two lookups
        prefix = flambeau.cat([flambeau.zeros_like(sq[:, :1]), sq.cumsum(1)], 1)
        hi = flambeau.tensor([min(c, i + half) for i in range(c)], device=input.device)
        lo = flambeau.tensor([max(0, i - half + 1) for i in range(c)], device=input.device)
        window = prefix.index_select(1, hi) - prefix.index_select(1, lo)
        if c > half:
            stale = flambeau.tensor([0.0] * half + [1.0] * (c - half), dtype=input.dtype,
                                    device=input.device).reshape(1, c, 1, 1)
            window = window + sq[:, :1] * stale
        scale = window * (self.alpha / self.size) + self.k
        return input * scale.pow(-self.beta)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LocalResponseNorm(Module):
    """Local response normalization across neighbouring channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.LocalResponseNorm(2)
    LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
