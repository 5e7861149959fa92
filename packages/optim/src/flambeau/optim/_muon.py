"""Muon: momentum orthogonalized by a Newton-Schulz iteration, for 2-D weights."""

from __future__ import annotations

import math

import flambeau
from flambeau._tensor import Tensor
from flambeau.amp import autocast
from flambeau.optim._optimizer import Optimizer, check_nonneg, lerp_, zeros_state

__all__ = ["Muon"]

_ADJUST_LR = (None, "original", "match_rms_adamw")


def _adjusted_lr(lr, adjust_lr_fn, shape):
    """``lr`` scaled so that the orthogonalized update has a comparable size whatever the
    matrix's shape: ``sqrt(max(1, A / B))`` ("original", Keller Jordan's) or
    ``0.2 * sqrt(max(A, B))`` ("match_rms_adamw", Moonshot's, to reuse AdamW's lr)."""
    rows, cols = shape[:2]
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr * math.sqrt(max(1.0, rows / cols))


def _bf16(t):
    """``t`` (float32) rounded to bfloat16's precision, kept in float32."""
    return t.to(flambeau.bfloat16).to(flambeau.float32)


def _orthogonalize(m, coefficients, steps, eps):
    """The Newton-Schulz iteration ``X <- a X + (b A + c A^2) X`` with ``A = X X^T``, from
    ``m / ||m||_F``: it pushes the singular values of ``m`` towards 1 (to about [0.5, 1.5])
    and keeps its singular vectors. Runs on the wide orientation so that ``A`` is small.

    As torch's, it runs in bfloat16: products are accumulated in float32 and each result is
    rounded to bfloat16 where torch rounds it, so the output equals torch's bit for bit."""
    a, b, c = coefficients
    x = _bf16(m.float())
    wide = x.shape[0] <= x.shape[1]
    x = x if wide else x.t()
    x = _bf16(x / _bf16(flambeau.linalg.vector_norm(x)).clamp(min=eps))
    for _ in range(steps):
        gram = _bf16(x @ x.t())
        x = _bf16(a * x + _bf16(b * gram + c * (gram @ gram)) @ x)
    return x if wide else x.t()


class Muon(Optimizer):
    """Muon, PyTorch's ``torch.optim.Muon`` (Jordan et al., 2024), for 2-D parameters (the
    weight matrices of hidden layers; optimize biases, embeddings and heads with AdamW).

    With gradient ``g``, momentum ``mu`` and buffer ``B`` (starting at 0)::

        B = B + (1 - mu) * (g - B)
        u = g + mu * (B - g)  if nesterov else  B
        O = NewtonSchulz(u)              # u with its singular values pushed towards 1
        p = p * (1 - lr * weight_decay)  # decoupled weight decay
        p = p - adjusted_lr * O

    ``adjusted_lr`` is ``lr * sqrt(max(1, rows / cols))`` (``adjust_lr_fn`` None or
    ``"original"``) or ``0.2 * lr * sqrt(max(rows, cols))`` (``"match_rms_adamw"``). The
    Newton-Schulz iteration rounds to bfloat16 as torch's does, so ``O`` equals torch's.

    State per parameter (made at its first step): ``momentum_buffer``.

    Parameters
    ----------
    params : iterable
        2-D tensors or parameter-group dicts.
    lr : float
        Learning rate (default 1e-3).
    weight_decay : float
        Decoupled weight decay (default 0.1).
    momentum : float
        Momentum factor (default 0.95).
    nesterov : bool
        Nesterov momentum (default True).
    ns_coefficients : tuple of 3 floats
        The iteration's polynomial coefficients ``(a, b, c)``.
    eps : float
        Lower bound of the norm that the iteration's input is divided by (default 1e-7).
    ns_steps : int
        Newton-Schulz steps (default 5, fewer than 100).
    adjust_lr_fn : {None, "original", "match_rms_adamw"}
        The learning-rate adjustment for the matrix's shape.

    Raises
    ------
    ValueError
        For a parameter that is not 2-D, a negative ``lr``, ``momentum`` or
        ``weight_decay``, an unknown ``adjust_lr_fn``, ``ns_steps`` of 100 or more, or
        ``ns_coefficients`` that are not 3 numbers; the optimizer is not made.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import Muon
    >>> w = flambeau.tensor([[3.0, 0.0], [0.0, 0.5]], requires_grad=True)
    >>> opt = Muon([w], lr=0.1, weight_decay=0.0)
    >>> w.backward(flambeau.tensor([[2.0, 0.0], [0.0, 0.1]])); opt.step()
    >>> (w.detach() - flambeau.tensor([[3.0, 0.0], [0.0, 0.5]])).diagonal().round(decimals=2)
    tensor([-0.0700, -0.0700])
    """

    _supports_complex = False

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5,
                 adjust_lr_fn=None):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                        nesterov=nesterov, ns_coefficients=ns_coefficients, eps=eps,
                        ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)

    def _check_options(self, options):
        check_nonneg("Muon", options, "lr", "momentum", "weight_decay")
        if options.get("adjust_lr_fn") not in _ADJUST_LR:
            raise ValueError(f"Muon: adjust learning rate function {options['adjust_lr_fn']!r} "
                             f"is not supported (use None, 'original' or 'match_rms_adamw')")
        if not options.get("ns_steps", 0) < 100:
            raise ValueError(f"Muon: ns_steps must be less than 100 for computational "
                             f"efficiency, got {options['ns_steps']}")
        coefficients = options.get("ns_coefficients", (0, 0, 0))
        if len(tuple(coefficients)) != 3:
            raise ValueError(f"Muon: ns_coefficients must be 3 numbers (a, b, c), got "
                             f"{coefficients!r}")

    def _check_group(self, group):
        super()._check_group(group)
        for i, p in enumerate(group["params"]):
            if isinstance(p, Tensor) and p.ndim != 2:
                raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                 f"parameter with size: {tuple(p.shape)} (parameter {i}); "
                                 f"optimize it with AdamW")

    def step(self, closure=None):
        """Perform one Muon step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import Muon
        >>> w = flambeau.zeros(2, 3, requires_grad=True)
        >>> opt = Muon([w], lr=0.1)
        >>> w.backward(flambeau.ones(2, 3)); opt.step()
        >>> sorted(opt.state[w])
        ['momentum_buffer']
        """
        return self._step_groups(closure)

    def _update_group(self, group, params, grads):
        mu, lr = group["momentum"], group["lr"]
        take = self._scratch.take
        for p, g in zip(params, grads, strict=True):
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = zeros_state(p)
            dev, pd = p._device, p._data
            xp, buf = dev._xp, state["momentum_buffer"]._data
            lerp_(xp, buf, g, 1 - mu, take(dev, pd))
            update = buf
            if group["nesterov"]:
                update = take(dev, pd, 1)
                update[...] = g
                lerp_(xp, update, buf, mu, take(dev, pd))
            # the rounding points are torch's: an enclosing autocast region must not move them
            with autocast(dev.type, enabled=False):
                ortho = _orthogonalize(Tensor._make(update, dev),
                                       tuple(group["ns_coefficients"]), group["ns_steps"],
                                       group["eps"])._data
            pd *= 1 - lr * group["weight_decay"]
            pd -= (_adjusted_lr(lr, group["adjust_lr_fn"], pd.shape) * ortho).astype(pd.dtype)
            p._version_counter.value += 1
