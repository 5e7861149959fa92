"""Cyclical schedules: cosine with warm restarts, CyclicLR and the one-cycle policy."""

from __future__ import annotations

import math
import types

from flambeau.optim.lr_scheduler._base import LRScheduler, check_optimizer, format_param

__all__ = ["CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR"]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every ``T_i`` epochs, ``T_i`` growing by ``T_mult``.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer.
    T_0 : int
        Length of the first cycle.
    T_mult : int
        Growth factor of the cycle length (default 1).
    eta_min : float
        Minimum learning rate (default 0).
    last_epoch : int
        Index of the last epoch (-1 starts the schedule).

    Notes
    -----
    ``step(epoch)`` accepts fractional epochs (``epoch + i / iters``) to restart mid-epoch.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import SGD
    >>> from flambeau.optim.lr_scheduler import CosineAnnealingWarmRestarts
    >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = CosineAnnealingWarmRestarts(opt, T_0=2)
    >>> lrs = []
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.5, 1.0, 0.5, 1.0]
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):  # noqa: N803
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a positive integer T_0, "
                             f"but got {T_0!r}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected an integer T_mult >= 1, "
                             f"but got {T_mult!r}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a float eta_min, but got "
                             f"{eta_min!r} of type {type(eta_min).__name__}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cos = math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base - self.eta_min) * (1 + cos) / 2 for base in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or jump to a (possibly fractional) ``epoch``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import CosineAnnealingWarmRestarts
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = CosineAnnealingWarmRestarts(opt, T_0=4)
        >>> sched.step(2.0); sched.get_last_lr()
        [0.5]
        """
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: expected a non-negative epoch, "
                                 f"but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())


def _set_momentum(group, use_beta1, momentum):
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _momentum_setup(scheduler, optimizer, base_momentum, max_momentum, last_epoch):
    """Check the optimizer has a momentum (or beta1) and store the momentum range per group."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{type(scheduler).__name__}: optimizer must support momentum or beta1 "
                         "with the cycle_momentum option enabled")
    scheduler.use_beta1 = "betas" in optimizer.defaults
    bases = format_param("base_momentum", optimizer, base_momentum)
    maxes = format_param("max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for high, low, group in zip(maxes, bases, optimizer.param_groups, strict=True):
            _set_momentum(group, scheduler.use_beta1, high)
            group["max_momentum"] = high
            group["base_momentum"] = low
    return bases, maxes


class CyclicLR(LRScheduler):
    """Cycle the lr between ``base_lr`` and ``max_lr`` (Smith, 2017), stepped every batch.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer.
    base_lr, max_lr : float or list
        Lower and upper learning rates (per group or shared).
    step_size_up : int
        Iterations of the rising half (default 2000).
    step_size_down : int, optional
        Iterations of the falling half (default: ``step_size_up``).
    mode : {"triangular", "triangular2", "exp_range"}
        Amplitude policy, ignored when ``scale_fn`` is given.
    gamma : float
        Base of the ``exp_range`` scaling ``gamma ** iteration``.
    scale_fn : callable, optional
        Custom amplitude scaling of one argument.
    scale_mode : {"cycle", "iterations"}
        Argument of a custom ``scale_fn``: the cycle number or the iteration.
    cycle_momentum : bool
        Cycle the momentum (or Adam's beta1) inversely between ``base_momentum`` and
        ``max_momentum``.
    base_momentum, max_momentum : float or list
        Momentum range.
    last_epoch : int
        Index of the last batch (-1 starts the schedule).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import SGD
    >>> from flambeau.optim.lr_scheduler import CyclicLR
    >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    >>> sched = CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2)
    >>> lrs = []
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.3, 0.5, 0.3, 0.1]
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        check_optimizer(self, optimizer)
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR: mode {mode!r} is invalid and scale_fn is None; use "
                             "'triangular', 'triangular2', 'exp_range' or give a scale_fn")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got "
                             f"{scale_mode!r}")
        self.optimizer = optimizer
        base_lrs = format_param("base_lr", optimizer, base_lr)
        self.max_lrs = format_param("max_lr", optimizer, max_lr)
        if cycle_momentum:
            momenta = _momentum_setup(self, optimizer, base_momentum, max_momentum, last_epoch)
            self.base_momentums, self.max_momentums = momenta
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                group["lr"] = lr
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        if self._scale_fn_custom is None:
            # the built-in policies fix their own argument (cycle number or iteration)
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x):
        """The amplitude scaling at ``x`` (a cycle number or an iteration, see scale_mode).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import CyclicLR
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
        >>> CyclicLR(opt, 0.1, 1.0, mode="triangular2").scale_fn(3)
        0.25
        """
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (high - base) * scale_factor * scale
               for base, high in zip(self.base_lrs, self.max_lrs, strict=True)]
        if self.cycle_momentum:
            for low, high, group in zip(self.base_momentums, self.max_momentums,
                                        self.optimizer.param_groups, strict=True):
                _set_momentum(group, self.use_beta1, high - (high - low) * scale_factor * scale)
        return lrs

    def state_dict(self):
        """The scheduler's state; a custom ``scale_fn`` is kept only through its ``__dict__``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import CyclicLR
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
        >>> CyclicLR(opt, 0.1, 1.0).state_dict()["_scale_fn_custom"] is None
        True
        """
        fn = self._scale_fn_custom
        self._scale_fn_custom = None
        try:
            state = super().state_dict()
        finally:
            self._scale_fn_custom = fn
        if fn is not None and not isinstance(fn, types.FunctionType):
            state["_scale_fn_custom"] = dict(fn.__dict__)
        return state

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict`, keeping this scheduler's own ``scale_fn`` object.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> from flambeau.optim.lr_scheduler import CyclicLR
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
        >>> a, b = CyclicLR(opt, 0.1, 1.0), CyclicLR(opt, 0.1, 1.0)
        >>> a.step(); b.load_state_dict(a.state_dict()); b.last_epoch
        1
        """
        state = dict(state_dict)
        saved_fn = state.pop("_scale_fn_custom", None)
        fn = self._scale_fn_custom
        super().load_state_dict(state)
        self._scale_fn_custom = fn
        if saved_fn is not None and fn is not None:
            fn.__dict__.update(saved_fn)
        self._init_scale_fn()


class OneCycleLR(LRScheduler):
    """The one-cycle policy (Smith and Topin, 2018), stepped every batch.

    The lr rises from ``max_lr / div_factor`` to ``max_lr`` over ``pct_start`` of the
    ``total_steps`` and then anneals to ``initial_lr / final_div_factor`` (with
    ``three_phase``, it first returns to the initial lr); the momentum moves inversely.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer.
    max_lr : float or list
        Peak learning rate (per group or shared).
    total_steps : int, optional
        Length of the cycle; else ``epochs * steps_per_epoch``.
    epochs, steps_per_epoch : int, optional
        Used when ``total_steps`` is None.
    pct_start : float
        Fraction of the cycle spent rising (default 0.3).
    anneal_strategy : {"cos", "linear"}
        Shape of the annealing.
    cycle_momentum : bool
        Cycle the momentum (or beta1) between ``max_momentum`` and ``base_momentum``.
    base_momentum, max_momentum : float or list
        Momentum range (defaults 0.85 and 0.95).
    div_factor, final_div_factor : float
        ``initial_lr = max_lr / div_factor``, ``min_lr = initial_lr / final_div_factor``.
    three_phase : bool
        Use the three-phase variant.
    last_epoch : int
        Index of the last batch (-1 starts the schedule).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import SGD
    >>> from flambeau.optim.lr_scheduler import OneCycleLR
    >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    >>> sched = OneCycleLR(opt, max_lr=1.0, total_steps=4, anneal_strategy="linear")
    >>> lrs = [sched.get_last_lr()[0]]
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.04, 0.7143, 0.3571, 0.0]
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True,
                 base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        check_optimizer(self, optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer total_steps, but got "
                                 f"{total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(value, int) or value <= 0:
                    raise ValueError(f"OneCycleLR: expected a positive integer {name}, but got "
                                     f"{value!r}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: you must define either total_steps OR (epochs AND "
                             "steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: expected a float pct_start in [0, 1], but got "
                             f"{pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        rise_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                dict(end_step=rise_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr",
                     end_lr="initial_lr", start_momentum="base_momentum",
                     end_momentum="max_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]
        else:
            self._schedule_phases = [
                dict(end_step=rise_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]
        max_lrs = format_param("max_lr", optimizer, max_lr)
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            _momentum_setup(self, optimizer, base_momentum, max_momentum, last_epoch)
        if last_epoch == -1:
            for high, group in zip(max_lrs, optimizer.param_groups, strict=True):
                group["initial_lr"] = high / div_factor
                group["max_lr"] = high
                group["min_lr"] = group["initial_lr"] / final_div_factor
                # the momentum range after the lr keys, as torch orders the group (and so
                # its state_dict)
                for key in ("max_momentum", "base_momentum"):
                    if key in group:
                        group[key] = group.pop(key)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; the specified number of "
                             f"total steps is {self.total_steps}")
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == last:
                    pct = (step - start) / (end - start)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]],
                                                group[phase["end_momentum"]], pct)
                    break
                start = end
            lrs.append(lr)
            if self.cycle_momentum:
                _set_momentum(group, self.use_beta1, momentum)
        return lrs
