"""Loss layers: each holds its options and calls its functional form."""

from __future__ import annotations

import math
import warnings

import flambeau.nn.functional as F
from flambeau.nn.functional._linear_cross_entropy import LinearCrossEntropyOptions
from flambeau.nn.functional._loss import _reduction
from flambeau.nn.modules.distance import PairwiseDistance
from flambeau.nn.modules.linear import Linear
from flambeau.nn.modules.module import Module

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss", "CrossEntropyLoss",
    "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss",
    "LinearCrossEntropyLoss", "LinearCrossEntropyOptions", "MSELoss", "MarginRankingLoss",
    "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss",
    "NLLLoss2d", "PoissonNLLLoss", "SmoothL1Loss", "SoftMarginLoss", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _reduction(type(self).__name__, size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error; see :func:`flambeau.nn.functional.mse_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.MSELoss()(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 4.0]))
    tensor(2.)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error; see :func:`flambeau.nn.functional.l1_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.L1Loss(reduction="sum")(flambeau.tensor([1.0, 2.0]), flambeau.tensor([0.0, 4.0]))
    tensor(3.)
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above; see :func:`~flambeau.nn.functional.smooth_l1_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.SmoothL1Loss(beta=0.5)(flambeau.tensor([3.0]), flambeau.tensor([0.0]))
    tensor(2.7500)
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear above; see :func:`~flambeau.nn.functional.huber_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.HuberLoss(delta=0.5)(flambeau.tensor([3.0]), flambeau.tensor([0.0]))
    tensor(1.3750)
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits; see :func:`flambeau.nn.functional.cross_entropy`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> loss(flambeau.zeros(2, 4), flambeau.tensor([0, 3]))
    tensor(1.3863)
    >>> try:
    ...     loss(flambeau.zeros(2, 4), flambeau.tensor([0, 5]))
    ... except IndexError as e:
    ...     print(e)
    cross_entropy: Target 5 is out of bounds for 4 classes (expected 0..3 or ignore_index=-100)
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities; see :func:`~flambeau.nn.functional.nll_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.NLLLoss()(flambeau.tensor([[-0.5, -1.0]]), flambeau.tensor([1]))
    tensor(1.)
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


_NLLLOSS2D_DEPRECATED = (
    "`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in replacement "
    "and see flambeau.nn.NLLLoss for more details.")


class NLLLoss2d(NLLLoss):
    """Deprecated: :class:`NLLLoss` (which takes ``(N, C, H, W)`` inputs), under its old name.

    Creating one gives PyTorch's ``FutureWarning``; it behaves as :class:`NLLLoss` after that.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> from flambeau import nn
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     loss = nn.NLLLoss2d()
    >>> caught[0].category.__name__
    'FutureWarning'
    >>> log_probs = flambeau.zeros(1, 2, 2, 2).log_softmax(1)  # (N, C, H, W)
    >>> loss(log_probs, flambeau.zeros(1, 2, 2, dtype=flambeau.long))
    tensor(0.6931)
    """

    __deprecated__ = _NLLLOSS2D_DEPRECATED  # as typing's @deprecated marks it in PyTorch

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        warnings.warn(_NLLLOSS2D_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class LinearCrossEntropyLoss(_WeightedLoss):
    """A linear layer to ``num_classes`` logits and their cross entropy with the target.

    See :func:`flambeau.nn.functional.linear_cross_entropy`: the logits are
    ``input @ W^T (+ bias)`` with ``W`` the ``linear`` submodule's weight, stored flat as
    ``(num_classes * prod(out_features), in_features)`` (the state dict key is
    ``linear.weight``, as in PyTorch) and viewed as ``(num_classes, *out_features,
    in_features)``. With ``options`` the loss is computed chunk by chunk over the rows.

    Parameters
    ----------
    in_features, num_classes : int
        Input features and classes ``C``.
    out_features : tuple of int
        ``(d1, ..., dK)`` of a K-dimensional loss (logits ``(N, C, d1, ..., dK)``).
    bias : bool
        Give the linear map a bias (``linear.bias``, stored flat).
    device, dtype
        Of the linear map's parameters.
    reduction, weight, ignore_index, label_smoothing, options
        As in :func:`~flambeau.nn.functional.linear_cross_entropy`; ``weight`` is a buffer
        of shape ``(num_classes,)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> loss = nn.LinearCrossEntropyLoss(5, 10, out_features=(4, 3))
    >>> x = flambeau.randn(2, 5, requires_grad=True)
    >>> out = loss(x, flambeau.randint(0, 10, (2, 4, 3)))
    >>> out.backward()
    >>> out.shape, x.grad.shape, list(loss.state_dict())
    (flambeau.Size([]), flambeau.Size([2, 5]), ['linear.weight'])
    """

    def __init__(self, in_features, num_classes, *, out_features=(), bias=False, device=None,
                 dtype=None, reduction="mean", weight=None, ignore_index=None,
                 label_smoothing=0.0, options=None):
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f"LinearCrossEntropyLoss: expected weight shape to be "
                               f"{(num_classes,)}, got {tuple(weight.shape)}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise RuntimeError(f"LinearCrossEntropyLoss: expected label_smoothing to be in "
                               f"range [0, 1], got {label_smoothing}")
        super().__init__(weight, None, None, reduction)
        self.num_classes, self.out_features = num_classes, out_features
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing
        # Linear holds 2-D weights only: keep them flat and view them in forward
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes),
                             bias=bias, device=device, dtype=dtype)
        self.options = options

    def forward(self, input, target):
        shape = (self.num_classes, *self.out_features)
        bias = self.linear.bias
        return F.linear_cross_entropy(
            input, self.linear.weight.reshape(*shape, self.linear.in_features), target,
            linear_bias=None if bias is None else bias.reshape(shape), weight=self.weight,
            reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self):
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities.

    See :func:`~flambeau.nn.functional.binary_cross_entropy`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.BCELoss()(flambeau.tensor([0.5]), flambeau.tensor([1.0]))
    tensor(0.6931)
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross entropy, stable.

    See :func:`~flambeau.nn.functional.binary_cross_entropy_with_logits`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> loss = nn.BCEWithLogitsLoss(pos_weight=flambeau.tensor([2.0]))
    >>> loss(flambeau.tensor([0.0]), flambeau.tensor([1.0]))
    tensor(1.3863)
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence; see :func:`flambeau.nn.functional.kl_div`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> p = flambeau.tensor([[0.25, 0.75]])
    >>> nn.KLDivLoss(reduction="batchmean", log_target=True)(p.log(), p.log())
    tensor(0.)
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CosineEmbeddingLoss(_Loss):
    """Cosine-similarity loss for pairs; see :func:`~flambeau.nn.functional.cosine_embedding_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.tensor([[1.0, 0.0]])
    >>> nn.CosineEmbeddingLoss()(x, x, flambeau.tensor([-1]))
    tensor(1.)
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """Ranking hinge loss; see :func:`flambeau.nn.functional.margin_ranking_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.MarginRankingLoss(margin=0.5)(flambeau.tensor([2.0]), flambeau.tensor([1.0]),
    ...                                  flambeau.tensor([1.0]))
    tensor(0.)
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """Triplet loss with p-norm distances; see :func:`~flambeau.nn.functional.triplet_margin_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> a = flambeau.zeros(1, 2)
    >>> nn.TripletMarginLoss(margin=1.0)(a, a, a)
    tensor(1.)
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """Hinge loss on distances; see :func:`~flambeau.nn.functional.hinge_embedding_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.HingeEmbeddingLoss()(flambeau.tensor([0.3]), flambeau.tensor([-1]))
    tensor(0.7000)
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss; see :func:`flambeau.nn.functional.soft_margin_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.SoftMarginLoss()(flambeau.zeros(1), flambeau.ones(1))
    tensor(0.6931)
    """

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss; see :func:`~flambeau.nn.functional.ctc_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> log_probs = flambeau.randn(10, 2, 5).log_softmax(2)
    >>> loss = nn.CTCLoss()(log_probs, flambeau.tensor([[1, 2], [3, 3]]), [10, 8], [2, 2])
    >>> loss.ndim
    0
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(None, None, reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood; see :func:`~flambeau.nn.functional.gaussian_nll_loss`.

    Called as ``loss(input, target, var)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> loss = nn.GaussianNLLLoss()
    >>> loss(flambeau.tensor([[2.0, 0.0]]), flambeau.zeros(1, 2), flambeau.tensor([4.0]))
    tensor(0.9431)
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood; see :func:`~flambeau.nn.functional.poisson_nll_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.PoissonNLLLoss()(flambeau.tensor([0.0, 1.0]), flambeau.tensor([1.0, 3.0]))
    tensor(0.3591)
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss; see :func:`~flambeau.nn.functional.multi_margin_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> nn.MultiMarginLoss()(x, flambeau.tensor([3]))
    tensor(0.3250)
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got p={p}")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{weight.ndim}D instead (shape {tuple(weight.shape)})")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss; see :func:`~flambeau.nn.functional.multilabel_margin_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> nn.MultiLabelMarginLoss()(x, flambeau.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label logistic loss.

    See :func:`~flambeau.nn.functional.multilabel_soft_margin_loss`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> loss = nn.MultiLabelSoftMarginLoss(weight=flambeau.tensor([1.0, 0.0]))
    >>> loss(flambeau.zeros(1, 2), flambeau.tensor([[1.0, 0.0]]))
    tensor(0.3466)
    """

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with any distance function.

    See :func:`~flambeau.nn.functional.triplet_margin_with_distance_loss`; the default
    distance is a :class:`PairwiseDistance` (Euclidean), held as ``distance_function``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> from flambeau import nn
    >>> loss = nn.TripletMarginWithDistanceLoss(
    ...     distance_function=lambda x, y: 1 - F.cosine_similarity(x, y), margin=0.5)
    >>> a = flambeau.tensor([[1.0, 0.0]])
    >>> loss(a, a, flambeau.tensor([[0.0, 1.0]]))
    tensor(0.)
    >>> loss(a, flambeau.tensor([[0.0, 1.0]]), a)
    tensor(1.5000)
    """

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(None, None, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        self.distance_function = (distance_function if distance_function is not None
                                  else PairwiseDistance())
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)
