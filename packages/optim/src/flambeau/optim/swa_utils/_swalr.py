"""SWALR: anneal each group's learning rate to a fixed SWA value."""

from __future__ import annotations

import math

from flambeau.optim.lr_scheduler._base import LRScheduler, check_optimizer, format_param

__all__ = ["SWALR"]


class SWALR(LRScheduler):
    """Anneal each group's learning rate to ``swa_lr``, then hold it there, PyTorch's
    ``torch.optim.swa_utils.SWALR``.

    Over ``anneal_epochs`` steps the learning rate moves from its value when the scheduler
    starts to ``swa_lr``, along a half cosine (``"cos"``) or a straight line (``"linear"``);
    each step works from the current ``lr``, so the schedule composes with changes made by
    other schedulers. With ``anneal_epochs=0`` the first step jumps to ``swa_lr``. Each
    group gets a ``"swa_lr"`` entry.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    swa_lr : float or list of float
        The final learning rate, for all groups or one per group.
    anneal_epochs : int
        Number of annealing steps, >= 0 (default 10).
    anneal_strategy : {"cos", "linear"}
        Shape of the annealing (default ``"cos"``).
    last_epoch : int
        Index of the last epoch (-1 starts the schedule).

    Raises
    ------
    ValueError
        If ``anneal_strategy`` is not ``"cos"`` or ``"linear"``, ``anneal_epochs`` is not an
        int >= 0, or a list ``swa_lr`` does not have one value per group; the optimizer is
        left unchanged.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import SGD
    >>> from flambeau.optim.swa_utils import SWALR
    >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = SWALR(opt, swa_lr=0.1, anneal_epochs=3, anneal_strategy="linear")
    >>> lrs = []
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.7, 0.4, 0.1, 0.1]
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        check_optimizer(self, optimizer)
        swa_lrs = format_param("swa_lr", optimizer, swa_lr)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("SWALR: anneal_strategy must be one of 'cos' or 'linear', "
                             f"instead got {anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError("SWALR: anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = lr
        self._set_anneal_func(anneal_strategy)
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else \
            self._linear_anneal

    def get_lr(self):
        """The learning rates of the current step, one per group.

        The lr the annealing started from is recovered from the current ``lr`` and the
        previous step's interpolation weight, then moved to this step's weight.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.swa_utils import SWALR
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = SWALR(opt, swa_lr=0.5, anneal_epochs=2)
        >>> opt.step(); sched.step(); sched.get_last_lr()
        [0.75]
        """
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / span)))
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / span)))
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(groups, prev_lrs, strict=True)]

    _unsaved = ("optimizer", "anneal_func")

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict` (the annealing function comes back from its name).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.swa_utils import SWALR
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> a = SWALR(opt, swa_lr=0.5, anneal_strategy="linear")
        >>> b = SWALR(opt, swa_lr=0.5)
        >>> b.load_state_dict(a.state_dict()); b.anneal_func(0.25)
        0.25
        """
        super().load_state_dict(state_dict)
        self._set_anneal_func(self._anneal_strategy)
