"""Schedulers made of other schedulers: SequentialLR and ChainedScheduler."""

from __future__ import annotations

import copy
from bisect import bisect_right

from flambeau.optim.lr_scheduler._base import LRScheduler
from flambeau.optim.lr_scheduler._plateau import ReduceLROnPlateau

__all__ = ["SequentialLR", "ChainedScheduler"]


def _check_members(owner, schedulers, optimizer):
    name = type(owner).__name__
    if len(schedulers) < 1:
        raise ValueError(f"{name} expects at least one scheduler, but got none")
    for i, sched in enumerate(schedulers):
        if not hasattr(sched, "optimizer"):
            raise TypeError(f"{name}: the scheduler at index {i} should have an `optimizer` "
                            "attribute")
        if isinstance(sched, ReduceLROnPlateau):
            raise ValueError(f"{name} does not support ReduceLROnPlateau (index {i}): its step "
                             "needs a metric")
        if sched.optimizer is not optimizer:
            raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, "
                             f"but the {type(sched).__name__} at index {i} has another one")


class _Composite(LRScheduler):
    """State handling shared by schedulers that own a list of schedulers."""

    _unsaved = ("optimizer", "_schedulers")

    def state_dict(self):
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        members = state.pop("_schedulers")
        if len(members) != len(self._schedulers):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state holds "
                             f"{len(members)} schedulers, this one has {len(self._schedulers)}")
        self.__dict__.update(copy.deepcopy(state))
        for sched, saved in zip(self._schedulers, members, strict=True):
            sched.load_state_dict(saved)


class SequentialLR(_Composite):
    """Run schedulers one after another, switching at the milestone epochs.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer all schedulers drive.
    schedulers : list of LRScheduler
        The schedules, in order.
    milestones : list of int
        Epochs at which the next scheduler takes over (one fewer than schedulers).
    last_epoch : int
        Index of the last epoch (-1 starts the schedule).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import SGD
    >>> from flambeau.optim.lr_scheduler import ConstantLR, ExponentialLR, SequentialLR
    >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
    >>> warm = ConstantLR(opt, factor=0.1, total_iters=2)
    >>> decay = ExponentialLR(opt, gamma=0.5)
    >>> sched = SequentialLR(opt, [warm, decay], milestones=[2])
    >>> lrs = [sched.get_last_lr()[0]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.1, 0.1, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_members(self, schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects one milestone fewer than schedulers, but got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # the members' constructors already stepped once: rewind them and the lrs, then let
        # only the scheduler active at epoch 0 take its first step
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def recursive_undo(self, sched=None):
        """Take back one epoch of ``sched`` (default: this scheduler's members), recursively.

        The constructor uses it to undo the first step its members' constructors took;
        only ``last_epoch`` counters change, not the learning rates.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import StepLR, SequentialLR
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> a, b = StepLR(opt, 1, 0.5), StepLR(opt, 1, 0.1)
        >>> s = SequentialLR(opt, [a, b], milestones=[2])
        >>> s.recursive_undo(); s.last_epoch, a.last_epoch, b.last_epoch
        (0, -1, -2)
        """
        self._rewind(self if sched is None else sched)

    @classmethod
    def _rewind(cls, sched):
        if hasattr(sched, "_schedulers"):
            for member in sched._schedulers:
                cls._rewind(member)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self):
        """Step the scheduler active at the new epoch (a new one starts from its epoch 0).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import StepLR, SequentialLR
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> s = SequentialLR(opt, [StepLR(opt, 1, 0.5), StepLR(opt, 1, 0.1)], milestones=[1])
        >>> opt.step(); s.step(); s.get_last_lr()
        [1.0]
        """
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sched._update_lr(0)
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedulers together, composing their (chainable) effects each step.

    Parameters
    ----------
    schedulers : list of LRScheduler
        Schedulers of the same optimizer, stepped in order.
    optimizer : Optimizer, optional
        Their optimizer (default: the first scheduler's).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import SGD
    >>> from flambeau.optim.lr_scheduler import ChainedScheduler, ConstantLR, ExponentialLR
    >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=2),
    ...                           ExponentialLR(opt, gamma=0.9)])
    >>> lrs = [sched.get_last_lr()[0]]
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.5, 0.45, 0.81, 0.729]
    """

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler, but got none")
        optimizer = optimizer or schedulers[0].optimizer
        _check_members(self, schedulers, optimizer)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = self._group_lrs()

    def step(self):
        """Step every member scheduler in order.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import ChainedScheduler, ExponentialLR
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> s = ChainedScheduler([ExponentialLR(opt, 0.5), ExponentialLR(opt, 0.5)])
        >>> opt.step(); s.step(); s.get_last_lr()
        [0.25]
        """
        for sched in self._schedulers:
            sched.step()
        self._last_lr = self._group_lrs()
