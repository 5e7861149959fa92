"""GradScaler: loss scaling for float16 training (PyTorch's ``torch.amp.GradScaler``)."""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["GradScaler"]

_READY, _UNSCALED, _STEPPED = 0, 1, 2


class _OptState:
    __slots__ = ("stage", "found_inf")

    def __init__(self):
        self.stage = _READY
        self.found_inf = None  # bool, known once unscale_ ran


class GradScaler:
    """Scale the loss so small float16 gradients do not flush to zero, and skip optimizer steps
    whose gradients overflowed.

    The scale is multiplied by ``backoff_factor`` after a step with inf/NaN gradients and by
    ``growth_factor`` after ``growth_interval`` steps in a row without, computed in float32
    exactly as PyTorch does, so the scale sequence matches PyTorch's on the same gradients.

    Parameters
    ----------
    device : str
        The device type of the gradients (``"cpu"``, ``"cuda"``).
    init_scale : float
        The first scale.
    growth_factor, backoff_factor : float
        Multipliers applied by :meth:`update`.
    growth_interval : int
        Overflow-free steps between growths.
    enabled : bool
        False makes every method a pass-through (``scale`` returns its input, ``step`` just
        steps), so one training loop serves both precisions.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.amp import GradScaler
    >>> class SGD:  # any object with param_groups and step() works, e.g. flambeau.optim.SGD
    ...     def __init__(self, params, lr):
    ...         self.param_groups = [{"params": list(params), "lr": lr}]
    ...     def step(self):
    ...         for p in self.param_groups[0]["params"]:
    ...             p.data -= self.param_groups[0]["lr"] * p.grad
    >>> w = flambeau.ones(2, requires_grad=True)
    >>> opt, scaler = SGD([w], lr=0.5), GradScaler("cpu", init_scale=1024.0)
    >>> scaler.scale((w * 2).sum()).backward()
    >>> scaler.step(opt)
    >>> scaler.update()
    >>> w, scaler.get_scale()
    (tensor([0., 0.], requires_grad=True), 1024.0)
    """

    def __init__(self, device="cuda", init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        from flambeau._device import device as _device

        self._device = str(_device(device))
        if enabled:
            try:
                _device(device).backend
            except RuntimeError as exc:
                warnings.warn(f"GradScaler: {exc}; disabling loss scaling", stacklevel=2)
                enabled = False
        if growth_factor <= 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
        if int(growth_interval) != growth_interval or growth_interval <= 0:
            raise ValueError(f"GradScaler: growth_interval must be a positive int, got "
                             f"{growth_interval}")
        self._enabled = bool(enabled)
        self._init_scale = float(init_scale)
        self._scale = None  # np.float32 once scale() ran (or a state was loaded)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer = {}

    # ------------------------------------------------------------------ scaling
    def _scale_value(self):
        if self._scale is None:
            self._scale = np.float32(self._init_scale)
        return self._scale

    def scale(self, outputs):
        """``outputs`` (a tensor, or lists/tuples of tensors) multiplied by the scale.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.amp import GradScaler
        >>> GradScaler("cpu", init_scale=4.0).scale(flambeau.tensor(1.5))
        tensor(6.)
        """
        if not self._enabled:
            return outputs
        from flambeau._tensor import Tensor

        def apply(v):
            if isinstance(v, Tensor):
                s = Tensor._make(v._device._xp.asarray(self._scale_value()), v._device)
                return v * s
            if isinstance(v, (list, tuple)):
                return type(v)(apply(x) for x in v)
            raise TypeError(f"GradScaler.scale: outputs must be a Tensor or a list/tuple of "
                            f"Tensors, got {type(v).__name__}")

        return apply(outputs)

    def _state_for(self, optimizer):
        st = self._per_optimizer.get(id(optimizer))
        if st is None:
            st = self._per_optimizer[id(optimizer)] = _OptState()
        return st

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale in place and look for inf/NaN.

        Call it before gradient clipping; :meth:`step` calls it when you did not.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.amp import GradScaler
        >>> class Opt:
        ...     def __init__(self, params):
        ...         self.param_groups = [{"params": params}]
        ...     def step(self):
        ...         pass
        >>> w = flambeau.ones(2, requires_grad=True)
        >>> opt, scaler = Opt([w]), GradScaler("cpu", init_scale=8.0)
        >>> scaler.scale(w.sum()).backward()
        >>> w.grad
        tensor([8., 8.])
        >>> scaler.unscale_(opt)
        >>> w.grad
        tensor([1., 1.])
        """
        if not self._enabled:
            return
        st = self._state_for(optimizer)
        if st.stage == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if st.stage == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        grads = []
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = getattr(p, "grad", None)
                if g is None:
                    continue
                if g.dtype.name == "float16":
                    raise ValueError("GradScaler.unscale_: attempting to unscale float16 "
                                     "gradients; keep the parameters in float32 and use "
                                     "autocast for float16 compute")
                grads.append(g)
        # the reciprocal is taken in float64 and rounded to float32, as PyTorch does
        inv = float(np.float32(1.0 / np.float64(self._scale_value())))
        found = False
        for g in grads:
            data = g._data
            if g.is_sparse:  # its stored values (sparse=True embeddings), as torch's
                data = data.values
            found = found or not bool(g._device._xp.isfinite(data).all())
            data *= data.dtype.type(inv)
            g._version_counter.value += 1
        st.found_inf = found
        st.stage = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if needed) and call ``optimizer.step(*args, **kwargs)`` unless the
        gradients hold inf or NaN; returns what ``step`` returned (None when skipped).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.amp import GradScaler
        >>> class Opt:
        ...     def __init__(self, params):
        ...         self.param_groups, self.steps = [{"params": params}], 0
        ...     def step(self):
        ...         self.steps += 1
        >>> w = flambeau.ones(1, requires_grad=True)
        >>> opt, scaler = Opt([w]), GradScaler("cpu")
        >>> scaler.scale((w * float("inf")).sum()).backward()
        >>> scaler.step(opt), opt.steps
        (None, 0)
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("GradScaler.step: closure use is not supported when the scaler "
                               "is enabled")
        st = self._state_for(optimizer)
        if st.stage == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st.stage == _READY:
            self.unscale_(optimizer)
        result = None
        if not st.found_inf:
            result = optimizer.step(*args, **kwargs)
        st.stage = _STEPPED
        return result

    def update(self, new_scale=None):
        """Adjust the scale for the next iteration (call once per iteration, after step).

        Parameters
        ----------
        new_scale : float or Tensor, optional
            Use this scale instead of the automatic rule.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.amp import GradScaler
        >>> class Opt:
        ...     def __init__(self, params):
        ...         self.param_groups = [{"params": params}]
        ...     def step(self):
        ...         pass
        >>> w = flambeau.ones(1, requires_grad=True)
        >>> opt, scaler = Opt([w]), GradScaler("cpu", init_scale=8.0, growth_interval=1)
        >>> scaler.scale(w.sum()).backward(); scaler.step(opt); scaler.update()
        >>> scaler.get_scale()
        16.0
        >>> scaler.update(2.0); scaler.get_scale()
        2.0
        """
        if not self._enabled:
            return
        if new_scale is not None:
            value = new_scale.item() if hasattr(new_scale, "item") else new_scale
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"GradScaler.update: new_scale must be a float or a one-element "
                                f"tensor, got {type(new_scale).__name__}")
            self._scale = np.float32(value)
        else:
            found = [st.found_inf for st in self._per_optimizer.values()
                     if st.found_inf is not None]
            if not found:
                raise RuntimeError("GradScaler.update: no inf checks were recorded prior to "
                                   "update(); call step() or unscale_() first")
            scale = self._scale_value()
            if any(found):
                self._scale = np.float32(scale * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            elif self._growth_tracker + 1 == self._growth_interval:
                grown = np.float32(scale * np.float32(self._growth_factor))
                if np.isfinite(grown):
                    self._scale = grown
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
        self._per_optimizer = {}

    # ------------------------------------------------------------------ accessors
    def get_scale(self) -> float:
        """The current scale as a Python float (1.0 when disabled).

        Examples
        --------
        >>> from flambeau.amp import GradScaler
        >>> GradScaler("cpu").get_scale(), GradScaler("cpu", enabled=False).get_scale()
        (65536.0, 1.0)
        """
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale)

    def get_growth_factor(self) -> float:
        """The factor the scale grows by."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the factor the scale grows by."""
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        """The factor the scale shrinks by after an overflow."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the factor the scale shrinks by after an overflow."""
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        """Overflow-free steps between growths."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set the number of overflow-free steps between growths."""
        self._growth_interval = int(new_interval)

    def is_enabled(self) -> bool:
        """Whether loss scaling is on.

        Examples
        --------
        >>> from flambeau.amp import GradScaler
        >>> GradScaler("cpu", enabled=False).is_enabled()
        False
        """
        return self._enabled

    def state_dict(self) -> dict:
        """The scale and its rule's parameters (empty when disabled), for checkpoints.

        Examples
        --------
        >>> from flambeau.amp import GradScaler
        >>> GradScaler("cpu", init_scale=4.0).state_dict()["scale"]
        4.0
        """
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict) -> None:
        """Restore what :meth:`state_dict` returned (also a PyTorch GradScaler's state).

        Examples
        --------
        >>> from flambeau.amp import GradScaler
        >>> s = GradScaler("cpu")
        >>> s.load_state_dict(GradScaler("cpu", init_scale=8.0).state_dict())
        >>> s.get_scale()
        8.0
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("GradScaler.load_state_dict: the state dict is empty, possibly "
                               "because it was saved from a disabled GradScaler")
        keys = ("scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker")
        missing = [k for k in keys if k not in state_dict]
        if missing:
            raise KeyError(f"GradScaler.load_state_dict: missing keys {missing}")
        scale = state_dict["scale"]
        scale = scale.item() if hasattr(scale, "item") else scale
        tracker = state_dict["_growth_tracker"]
        tracker = tracker.item() if hasattr(tracker, "item") else tracker
        self._init_scale = float(scale)
        self._scale = np.float32(scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(tracker)
