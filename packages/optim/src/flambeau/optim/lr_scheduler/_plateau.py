"""ReduceLROnPlateau: lower the lr when a metric stops improving."""

from __future__ import annotations

import copy
import math

from flambeau.optim.lr_scheduler._base import LRScheduler, check_optimizer

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` after ``patience`` epochs without improvement.

    An :class:`LRScheduler`, as in PyTorch (so ``isinstance`` checks of training loops
    hold), but driven by the metric given to :meth:`step`: it has no ``get_lr``.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer.
    mode : {"min", "max"}
        Whether the metric should decrease or increase.
    factor : float
        Multiplicative decay, < 1 (default 0.1).
    patience : int
        Epochs without improvement tolerated (default 10).
    threshold : float
        Minimal significant change (default 1e-4).
    threshold_mode : {"rel", "abs"}
        Relative or absolute ``threshold``.
    cooldown : int
        Epochs to wait after a reduction before counting again.
    min_lr : float or list
        Lower bound(s) of the lr.
    eps : float
        Reductions smaller than this are skipped.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import SGD
    >>> from flambeau.optim.lr_scheduler import ReduceLROnPlateau
    >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9]:
    ...     sched.step(loss)
    >>> sched.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor}")
        check_optimizer(self, optimizer)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"ReduceLROnPlateau: expected {n} min_lrs (one per parameter "
                                 f"group), got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        self._check_mode(mode, threshold_mode)
        self.factor = factor
        self.optimizer = optimizer
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self._reset()

    @staticmethod
    def _check_mode(mode, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode {mode!r} is unknown (use 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold mode {threshold_mode!r} is unknown "
                             "(use 'rel' or 'abs')")

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        """Whether a reduction happened less than ``cooldown`` epochs ago.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import ReduceLROnPlateau
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> s = ReduceLROnPlateau(opt, patience=0, cooldown=2)
        >>> s.step(1.0); s.step(2.0); s.in_cooldown
        True
        """
        return self.cooldown_counter > 0

    def is_better(self, a, best):
        """Whether metric ``a`` improves on ``best`` by more than the threshold.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import ReduceLROnPlateau
        >>> s = ReduceLROnPlateau(SGD([flambeau.ones(1, requires_grad=True)], lr=1.0))
        >>> s.is_better(0.5, 1.0), s.is_better(0.99999, 1.0)
        (True, False)
        """
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics, epoch=None):
        """Record this epoch's metric and reduce the lr if it has plateaued.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import ReduceLROnPlateau
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> s = ReduceLROnPlateau(opt, mode="max", patience=0)
        >>> s.step(1.0); s.step(0.5); s.get_last_lr()
        [0.1]
        """
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} "
                                   f"parameter groups but {len(self.min_lrs)} min_lrs were "
                                   "given; update min_lrs after adding a group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, low in zip(groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, low)
            if old - new > self.eps:
                group["lr"] = new

    def get_last_lr(self):
        """The learning rates after the last :meth:`step`.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import ReduceLROnPlateau
        >>> ReduceLROnPlateau(SGD([flambeau.ones(1, requires_grad=True)], lr=0.3)).get_last_lr()
        [0.3]
        """
        return self._last_lr

    def state_dict(self):
        """Everything but the optimizer, copied.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import ReduceLROnPlateau
        >>> s = ReduceLROnPlateau(SGD([flambeau.ones(1, requires_grad=True)], lr=1.0))
        >>> s.state_dict()["patience"]
        10
        """
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "optimizer"})

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict` (the mode is checked again).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import ReduceLROnPlateau
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> a, b = ReduceLROnPlateau(opt, patience=3), ReduceLROnPlateau(opt)
        >>> b.load_state_dict(a.state_dict()); b.patience
        3
        """
        state = copy.deepcopy(dict(state_dict))
        self._check_mode(state.get("mode", self.mode),
                         state.get("threshold_mode", self.threshold_mode))
        self.__dict__.update(state)
