"""Adafactor: relative step sizes and a factored (row x column) second moment."""

from __future__ import annotations

import math

import flambeau
from flambeau import Tensor
from flambeau.optim._optimizer import Optimizer, bump_step, lerp_, new_step, zeros_state

__all__ = ["Adafactor"]


def _norm(xp, a):
    """The 2-norm of all of ``a`` as a Python float."""
    flat = a.reshape(-1)
    return math.sqrt(float(xp.vdot(flat, flat)))


def _mean_sq(xp, squares, axis, out):
    """``norm(g, dim=axis) ** 2 / g.shape[axis]`` from ``squares = g * g`` (PyTorch rounds
    through the norm)."""
    xp.sum(squares, axis=axis, keepdims=True, out=out)
    xp.sqrt(out, out=out)
    out *= out
    out /= squares.shape[axis]
    return out


class Adafactor(Optimizer):
    """Adafactor, PyTorch's ``torch.optim.Adafactor`` (Shazeer and Stern, 2018).

    With gradient ``g`` (negated when ``maximize``) at step ``t``, ``beta = 1 - t **
    beta2_decay``, ``rho = min(lr, 1 / sqrt(t))`` and ``RMS(x) = norm(x) / sqrt(numel(x))``::

        a = max(eps2, RMS(p)) * rho               (from p before the weight decay)
        p = p * (1 - lr * weight_decay)
        R = lerp(R, mean(g**2, dim=-1), t ** beta2_decay)     (p.ndim > 1: factored)
        C = lerp(C, mean(g**2, dim=-2), t ** beta2_decay)
        V = R * C / max(mean(R, dim=-2), eps1)
        V = lerp(V, g**2, t ** beta2_decay)                   (otherwise: full)
        u = g / sqrt(max(V, eps1**2))
        p = p - a * u / max(1, RMS(u) / d)

    Parameters with two or more dimensions keep only the row factor ``row_var`` (shape of
    ``p`` with the last dimension 1) and the column factor ``col_var`` (the second-to-last
    dimension 1); others keep a full ``variance``. State per parameter: ``step`` and those.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Upper bound of the relative step size ``rho`` and the factor of the (decoupled)
        weight decay (default 1e-2).
    beta2_decay : float
        Exponent of the second-moment decay schedule, <= 0 (default -0.8).
    eps : (float or None, float)
        ``(eps1, eps2)``: the floor of the variance estimate (None: the machine epsilon of
        the group's first parameter with a gradient, as PyTorch picks it) and the floor of
        the parameter scale (default (None, 1e-3)).
    d : float
        Clipping threshold of the update's RMS, >= 1 (default 1.0).
    weight_decay : float
        Decoupled weight decay coefficient (default 0).
    foreach
        Accepted for PyTorch compatibility; flambeau always runs its in-place update.
    maximize : bool
        Maximize the objective.

    Raises
    ------
    ValueError
        With PyTorch's messages after the class name: ``"Adafactor: Learning rate should be
        >= 0 but is: -1"``, and likewise for ``beta2_decay`` > 0, a negative ``eps1`` or
        ``eps2``, ``d`` < 1 and a negative ``weight_decay``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import Adafactor
    >>> w = flambeau.tensor([[3.0, 4.0], [0.0, 5.0]], requires_grad=True)
    >>> opt = Adafactor([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w
    tensor([[2.5000, 3.6877],
            [0.0000, 4.6096]], requires_grad=True)
    >>> [tuple(v.shape) for v in opt.state[w].values()]
    [(), (2, 1), (1, 2)]
    """

    _supports_complex = False

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, options):
        def check(key, ok, message):
            value = options.get(key)
            if value is not None and not ok(value):
                raise ValueError(f"Adafactor: {message}: {value}")

        check("lr", lambda v: 0.0 <= v, "Learning rate should be >= 0 but is")
        check("beta2_decay", lambda v: 0.0 >= v, "beta2_decay should be <= 0 but is")
        eps = options.get("eps")
        if eps is not None:
            if len(eps) != 2:
                raise ValueError(f"Adafactor: eps must be a pair (eps1, eps2), got {eps!r}")
            if eps[0] is not None and not 0.0 <= eps[0]:
                raise ValueError(f"Adafactor: epsilon1 should be >= 0 but is: {eps[0]}")
            if not 0.0 <= eps[1]:
                raise ValueError(f"Adafactor: epsilon2 should be >= 0 but is: {eps[1]}")
        check("d", lambda v: 1.0 <= v, "Clipping threshold d should be >= 1 but is")
        check("weight_decay", lambda v: 0.0 <= v, "weight_decay should be >= 0 but is")

    def step(self, closure=None):
        """Perform one Adafactor step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import Adafactor
        >>> w = flambeau.tensor([2.0, -2.0], requires_grad=True)
        >>> opt = Adafactor([w], lr=0.5)
        >>> w.backward(flambeau.tensor([1.0, 1.0])); opt.step(); w
        tensor([ 1., -3.], requires_grad=True)
        """
        return self._step_groups(closure)

    def _update_in_parts(self, group, params, grads):
        eps1, eps2 = group["eps"]
        if eps1 is None:
            # PyTorch takes the epsilon of the group's first parameter with a gradient for
            # the whole group; fixed here so that steps split across threads agree
            eps1 = flambeau.finfo(params[0].dtype).eps
            group = dict(group, eps=(eps1, eps2))
        super()._update_in_parts(group, params, grads)

    def _update_group(self, group, params, grads):
        lr, beta2_decay, d = group["lr"], group["beta2_decay"], group["d"]
        eps1, eps2 = group["eps"]
        wd, maximize = group["weight_decay"], group["maximize"]
        take = self._scratch.take
        for p, g in zip(params, grads, strict=True):
            s = self.state[p]
            dev, pd = p._device, p._data
            xp = dev._xp
            factored = pd.ndim > 1
            if not s:
                s["step"] = new_step()
                if factored:
                    s["row_var"] = Tensor._make(
                        xp.zeros(pd.shape[:-1] + (1,), dtype=pd.dtype), dev)
                    s["col_var"] = Tensor._make(
                        xp.zeros(pd.shape[:-2] + (1, pd.shape[-1]), dtype=pd.dtype), dev)
                else:
                    s["variance"] = zeros_state(p)
            step = bump_step(s["step"])
            if pd.size == 0:
                continue  # nothing to update (PyTorch divides 0 by 0 computing the RMS)
            if maximize:
                g = xp.negative(g, out=take(dev, pd, 1))
            weight = step ** beta2_decay
            rho = min(lr, 1 / (step ** 0.5))
            alpha = max(eps2, _norm(xp, pd) / (pd.size ** 0.5)) * rho
            if wd != 0:
                pd *= 1 - lr * wd
            var = take(dev, pd)
            if factored:
                row, col = s["row_var"]._data, s["col_var"]._data
                xp.multiply(g, g, out=var)
                lerp_(xp, row, _mean_sq(xp, var, -1, take(dev, row, 2)), weight,
                      take(dev, row, 3))
                lerp_(xp, col, _mean_sq(xp, var, -2, take(dev, col, 4)), weight,
                      take(dev, col, 5))
                xp.multiply(row, col, out=var)
                row_mean = xp.mean(row, axis=-2, keepdims=True)
                xp.maximum(row_mean, eps1, out=row_mean)
                var /= row_mean
                s["row_var"]._version_counter.value += 1
                s["col_var"]._version_counter.value += 1
            else:
                v = s["variance"]._data
                squares = take(dev, pd, 2)
                xp.multiply(g, g, out=squares)
                lerp_(xp, v, squares, weight, var)
                var[...] = v
                s["variance"]._version_counter.value += 1
            xp.maximum(var, eps1 * eps1, out=var)
            xp.sqrt(var, out=var)
            xp.divide(1, var, out=var)
            var *= g
            denom = max(1.0, _norm(xp, var) / ((var.size ** 0.5) * d))
            var *= -alpha / denom
            pd += var
            p._version_counter.value += 1
