"""SyncBatchNorm: batch normalization with the batch statistics of every rank.

flambeau-nn does not depend on flambeau-distributed: the module looks for
``flambeau.distributed`` among the imported modules when it runs. A process group can only
be initialized once that package is imported, so when it is not, or no group is
initialized, or the group has one rank, or in eval mode, the module is exactly
:class:`BatchNorm1d`/``2d``/``3d`` of any rank >= 2.

Across ranks, each channel's sum (with the element count) is all-reduced to the global mean,
then the sum of squared deviations from it to the global (biased) variance: two reductions
instead of one of sums and sums of squares, which loses precision when the mean is large
against the spread. The all-reduce is an autograd node whose backward all-reduces the
incoming gradient, so each rank's input gradient includes the terms of the other ranks'
losses through the shared statistics (the all-reduced sums of ``grad`` and
``grad * x_hat``).
"""

from __future__ import annotations

import sys

import flambeau
from flambeau.autograd import Function
from flambeau.nn.functional._norm import _update_running
from flambeau.nn.modules.normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class _AllReduceSum(Function):
    """The sum of ``x`` over the ranks of ``group``; the gradient is summed the same way."""

    @staticmethod
    def forward(ctx, x, dist, group):
        ctx.dist, ctx.group = dist, group
        total = x.detach().clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM, group=group)
        return total

    @staticmethod
    def backward(ctx, g):
        return _AllReduceSum.apply(g, ctx.dist, ctx.group), None, None


class SyncBatchNorm(_BatchNorm):
    """Batch normalization whose training statistics are those of the whole global batch.

    In training mode, when ``flambeau.distributed`` has an initialized process group of more
    than one rank (``process_group``, or the default group), the per-channel mean and
    variance are computed over the inputs of every rank (all-reduced with
    :func:`flambeau.distributed.all_reduce`), and so is the gradient. Otherwise it computes
    exactly what :class:`BatchNorm1d`/``2d``/``3d`` computes, for inputs ``(N, C, *)`` of any
    rank >= 2. Parameters and buffers are BatchNorm's, with the same state dict keys. Every
    rank must call it the same number of times in training mode.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float
        Added to the variance for stability.
    momentum : float or None
        The running statistics' update factor; None uses the cumulative average.
    affine : bool
        Learn a per-channel ``weight`` and ``bias``.
    track_running_stats : bool
        Keep ``running_mean``, ``running_var`` and ``num_batches_tracked``.
    process_group : flambeau.distributed.ProcessGroup, optional
        The ranks to synchronize over; the default group when None.

    Raises
    ------
    ValueError
        An input of fewer than 2 dimensions, with no channels, or with a channel count that
        is not ``num_features``; in training mode, a global batch of one value per channel.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> sbn = nn.SyncBatchNorm(3)
    >>> sbn(flambeau.randn(4, 3, 2, 2, 2, 2)).shape
    flambeau.Size([4, 3, 2, 2, 2, 2])
    >>> sorted(sbn.state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)
        self.process_group = process_group

    def _check_input(self, input):
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D "
                             f"input of shape {tuple(input.shape)})")

    def _check_channels(self, input):
        if input.shape[1] == 0:
            raise ValueError(f"SyncBatchNorm number of input channels should be non-zero "
                             f"(input shape {tuple(input.shape)})")
        super()._check_channels(input)

    def _sync_group(self):
        """``(flambeau.distributed, group)`` when the statistics must be synchronized."""
        dist = sys.modules.get("flambeau.distributed")
        if dist is None or not dist.is_initialized():
            return None
        if dist.get_world_size(self.process_group) <= 1:
            return None
        return dist, self.process_group

    def forward(self, input):
        sync = self._sync_group() if self.training else None
        if sync is None:
            return super().forward(input)
        self._check_input(input)
        self._check_channels(input)
        return self._synced(input, *sync)

    def _synced(self, input, dist, group):
        c = input.shape[1]
        axes = (0,) + tuple(range(2, input.ndim))
        local = input.numel() // c
        first = flambeau.cat([input.sum(axes),
                              flambeau.full((1,), local, dtype=input.dtype,
                                            device=input.device)])
        first = _AllReduceSum.apply(first, dist, group)
        count = int(first[c].item())
        if count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when "
                             f"training, got {count} over all ranks (local input size "
                             f"{tuple(input.shape)})")
        shape = (1, c) + (1,) * (input.ndim - 2)
        mean = first[:c] / count
        centred = input - mean.reshape(shape)
        var = _AllReduceSum.apply((centred * centred).sum(axes), dist, group) / count
        y = centred * (var + self.eps).rsqrt().reshape(shape)
        if self.track_running_stats and self.running_mean is not None:
            with flambeau.no_grad():
                self.num_batches_tracked.add_(1)
                factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                          else self.momentum)
                # as batch_norm and flambeau.batch_norm_gather_stats update them
                _update_running(self.running_mean, mean.detach(), factor)
                _update_running(self.running_var, var.detach(), factor, count / (count - 1))
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every ``BatchNorm*d`` in ``module`` (itself included) by a SyncBatchNorm.

        The new layers take over the old ones' parameters and buffers (the same tensors) and
        training flag; the module is changed in place and returned (or the replacement, when
        ``module`` itself is a batch norm).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
        >>> bn = net[1]
        >>> net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        >>> type(net[1]).__name__, net[1].weight is bn.weight
        ('SyncBatchNorm', True)
        """
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group,
                      bias=module.bias is not None or not module.affine)
            if module.affine:
                with flambeau.no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
