"""AdaptiveLogSoftmaxWithLoss: the adaptive softmax of Grave et al. for large vocabularies."""

from __future__ import annotations

import numbers
from collections import namedtuple

import flambeau
import flambeau.nn.functional as F
from flambeau.nn.modules.container import ModuleList, Sequential
from flambeau.nn.modules.linear import Linear
from flambeau.nn.modules.module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])

_WHO = "AdaptiveLogSoftmaxWithLoss"


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: frequent classes in a head, rare ones in smaller clusters.

    The classes are split by ``cutoffs``: ``[0, cutoffs[0])`` form the shortlist, scored by
    the ``head`` together with one logit per cluster; cluster ``i`` holds
    ``[cutoffs[i], cutoffs[i + 1])`` (the last ends at ``n_classes``) and is scored by
    ``tail[i]``, a projection to ``in_features // div_value ** (i + 1)`` features and then
    to the cluster's classes. A class's log-probability is its head log-probability, or its
    cluster's head log-probability plus its log-probability inside the cluster. Sort the
    classes by decreasing frequency for this to pay off.

    Parameters
    ----------
    in_features : int
        The number of input features.
    n_classes : int
        The number of classes.
    cutoffs : sequence of int
        Increasing, unique cutoffs, each in ``[1, n_classes - 1]``.
    div_value : float
        The ratio by which each cluster's hidden size shrinks.
    head_bias : bool
        Give the head a bias.

    Raises
    ------
    ValueError
        ``cutoffs`` empty, unsorted, repeated, not integers or out of ``[1, n_classes - 1]``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> asm = nn.AdaptiveLogSoftmaxWithLoss(16, 20, [5, 10], div_value=2.0)
    >>> [k for k in asm.state_dict()]
    ['head.weight', 'tail.0.0.weight', 'tail.0.1.weight', 'tail.1.0.weight', 'tail.1.1.weight']
    >>> out = asm(flambeau.randn(4, 16), flambeau.tensor([0, 7, 12, 19]))
    >>> out.output.shape, out.loss.shape
    (flambeau.Size([4]), flambeau.Size([]))
    >>> asm.log_prob(flambeau.randn(4, 16)).exp().sum(1)
    tensor([1.0000, 1.0000, 1.0000, 1.0000], grad_fn=<SumBackward1>)
    """

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (any(not isinstance(c, numbers.Integral) for c in cutoffs)
                or cutoffs != sorted(cutoffs) or min(cutoffs) <= 0
                or max(cutoffs) > n_classes - 1 or len(set(cutoffs)) != len(cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             f"n_classes-1 (got cutoffs={cutoffs}, n_classes={n_classes})")
        kw = {"device": device, "dtype": dtype}
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = [int(c) for c in cutoffs] + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **kw),
                                        Linear(hidden, size, bias=False, **kw)))

    def reset_parameters(self):
        """Re-initialize the head and every cluster's projections."""
        self.head.reset_parameters()
        for projections in self.tail:
            for linear in projections:
                linear.reset_parameters()

    def _check_features(self, input, who):
        if input.shape[-1] != self.in_features:
            raise RuntimeError(f"{who}: expected input with {self.in_features} features "
                               f"(in_features), got input of shape {tuple(input.shape)}")

    def forward(self, input_, target_):
        """``_ASMoutput(output, loss)``: each target's log-probability and the mean NLL.

        ``input_`` is ``(N, in_features)`` with ``target_`` ``(N,)``, or ``(in_features,)``
        with a 0-D ``target_`` (then ``output`` is 0-D). The trailing underscores are torch's
        parameter names.
        """
        input, target = input_, target_
        t_dim = target.ndim
        if t_dim == 1:
            if input.shape[0] != target.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {input.shape}")
        elif t_dim == 0:
            if input.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {input.shape}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        self._check_features(input, _WHO)
        batched = t_dim > 0
        x = input if batched else input.unsqueeze(0)
        t = target if batched else target.unsqueeze(0)
        if t.numel() and (int(t.min()) < 0 or int(t.max()) > self.n_classes - 1):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{int(t.min())}, {int(t.max())}] were found. ")
        # the head scores shortlist targets directly and the others through their cluster
        head_index = t.clone()
        inside = flambeau.zeros(t.shape[0], dtype=x.dtype, device=x.device)
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            rows = ((t >= low) & (t < high)).nonzero().flatten()
            if rows.numel() == 0:
                continue
            head_index = head_index.index_fill(0, rows, self.shortlist_size + i)
            logits = self.tail[i](x.index_select(0, rows))
            relative = (t.index_select(0, rows) - low).unsqueeze(1)
            local = F.log_softmax(logits, 1).gather(1, relative).squeeze(1)
            inside = inside.index_add(0, rows, local)
        head_logprob = F.log_softmax(self.head(x), 1)
        output = head_logprob.gather(1, head_index.unsqueeze(1)).squeeze(1) + inside
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _full_log_prob(self, input, head_output):
        head_logprob = F.log_softmax(head_output, 1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i, projections in enumerate(self.tail):
            cluster = F.log_softmax(projections(input), 1)
            parts.append(cluster + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return flambeau.cat(parts, 1)

    def _check_2d(self, input, who):
        if input.ndim != 2:
            raise RuntimeError(f"{who}: expected a 2D input (batch, in_features), got input of "
                               f"shape {tuple(input.shape)}")
        self._check_features(input, who)

    def log_prob(self, input):
        """Log-probabilities of every class, ``(N, n_classes)``, for an ``(N, in_features)``
        input.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4])
        >>> asm.log_prob(flambeau.randn(3, 8)).shape
        flambeau.Size([3, 10])
        """
        self._check_2d(input, f"{_WHO}.log_prob")
        return self._full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class of each row, ``(N,)`` int64 (``log_prob(input).argmax(1)``).

        A row whose best head entry is a shortlist class needs no cluster: every class of a
        cluster is less likely than the cluster itself.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4])
        >>> x = flambeau.randn(5, 8)
        >>> bool((asm.predict(x) == asm.log_prob(x).argmax(1)).all())
        True
        """
        self._check_2d(input, f"{_WHO}.predict")
        with flambeau.no_grad():
            head_output = self.head(input)
            best = head_output.argmax(1)
            rows = (best >= self.shortlist_size).nonzero().flatten()
            if rows.numel() == 0:
                return best
            sub = input.index_select(0, rows)
            full = self._full_log_prob(sub, head_output.index_select(0, rows)).argmax(1)
            return best.index_copy(0, rows, full)
