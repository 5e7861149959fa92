"""The LRScheduler base class: base learning rates, last_epoch, state_dict."""

from __future__ import annotations

import copy
import types

from flambeau.optim._optimizer import Optimizer

__all__ = ["LRScheduler", "format_param"]


def format_param(name, optimizer, value):
    """One value per parameter group: a list of matching length, or a scalar repeated."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} must have the same length as optimizer.param_groups: "
                             f"{name} has {len(value)} values, param_groups has {n}")
        return list(value)
    return [value] * n


def check_optimizer(scheduler, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(scheduler).__name__}: {type(optimizer).__name__} is not an "
                        "Optimizer")


class LRScheduler:
    """Base class of learning-rate schedulers, PyTorch's ``torch.optim.lr_scheduler.LRScheduler``.

    Creating a scheduler records each group's ``initial_lr`` (once) and applies the schedule's
    value for epoch 0; each :meth:`step` advances ``last_epoch`` and sets the groups' ``lr``.
    Subclasses implement ``get_lr()`` in PyTorch's chainable (recursive) form, and optionally
    ``_get_closed_form_lr()`` used by the deprecated ``step(epoch)``.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rates are scheduled.
    last_epoch : int
        Index of the last epoch; -1 (default) starts a new schedule, other values resume one
        (the groups must then hold ``initial_lr``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import SGD
    >>> from flambeau.optim.lr_scheduler import LRScheduler
    >>> class Halving(LRScheduler):
    ...     def get_lr(self):
    ...         return [base * 0.5 ** self.last_epoch for base in self.base_lrs]
    >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = Halving(opt)
    >>> opt.step(); sched.step(); sched.get_last_lr()
    [0.5]
    """

    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        check_optimizer(self, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified "
                                   f"in param_groups[{i}] when resuming with last_epoch="
                                   f"{last_epoch}; load the optimizer's state_dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """Apply the schedule's first value (``_is_initial`` is set while it runs)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The learning rates for the current ``last_epoch`` (implemented by subclasses).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import StepLR
        >>> sched = StepLR(SGD([flambeau.ones(1, requires_grad=True)], lr=1.0), step_size=1)
        >>> sched.get_lr()
        [1.0]
        """
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def get_last_lr(self):
        """The learning rates set by the last :meth:`step`, one per parameter group.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import ExponentialLR
        >>> sched = ExponentialLR(SGD([flambeau.ones(1, requires_grad=True)], lr=1.0), 0.5)
        >>> sched.step(); sched.get_last_lr()
        [0.5]
        """
        return self._last_lr

    def step(self, epoch=None):
        """Advance one epoch (or jump to ``epoch``, deprecated) and update the groups' lr.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import StepLR
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = StepLR(opt, step_size=2, gamma=0.1)
        >>> for _ in range(3):
        ...     opt.step(); sched.step()
        >>> round(opt.param_groups[0]["lr"], 6), sched.last_epoch
        (0.1, 3)
        """
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        self._set_lrs(values)

    def _set_lrs(self, values):
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _group_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    # ------------------------------------------------------------------ state
    _unsaved = ("optimizer",)

    def state_dict(self):
        """Everything but the optimizer (and, as PyTorch, plain-function lambdas), copied.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import StepLR
        >>> sched = StepLR(SGD([flambeau.ones(1, requires_grad=True)], lr=1.0), step_size=3)
        >>> sd = sched.state_dict()
        >>> sd["step_size"], sd["base_lrs"], sd["last_epoch"]
        (3, [1.0], 0)
        """
        out = {k: v for k, v in self.__dict__.items() if k not in self._unsaved}
        for key in self._callable_lists():
            fns = self.__dict__[key]
            out[key] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                        for fn in fns]
        return copy.deepcopy(out)

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict` (callable objects get their saved attributes back).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import StepLR
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> a, b = StepLR(opt, step_size=3), StepLR(opt, step_size=1)
        >>> b.load_state_dict(a.state_dict()); b.step_size
        3
        """
        state = copy.deepcopy(dict(state_dict))
        saved_fns = {key: state.pop(key) for key in self._callable_lists() if key in state}
        self.__dict__.update(state)
        for key, saved in saved_fns.items():
            for fn, attrs in zip(self.__dict__[key], saved, strict=False):
                if attrs is not None:
                    fn.__dict__.update(attrs)

    def _callable_lists(self):
        """Attributes holding user callables, saved only through their ``__dict__``."""
        return ()
