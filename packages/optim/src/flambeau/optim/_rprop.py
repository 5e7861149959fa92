"""Rprop: per-coordinate step sizes adapted from the sign of successive gradients."""

from __future__ import annotations

from flambeau.optim._optimizer import Optimizer, bump_step, new_step, zeros_state

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Resilient backpropagation, PyTorch's ``torch.optim.Rprop`` (Riedmiller and Braun, 1993).

    With gradient ``g`` (negated when ``maximize``) and the previous step's ``prev``, each
    coordinate's step size grows by ``etaplus`` while the gradient keeps its sign, shrinks by
    ``etaminus`` when it flips (and that coordinate then skips the update), and stays when
    either is zero::

        f = etaplus if g * prev > 0, etaminus if g * prev < 0, else 1
        step_size = clamp(step_size * f, step_size_min, step_size_max)
        g = 0 where f == etaminus
        p = p - sign(g) * step_size
        prev = g

    State per parameter: ``step``, ``prev`` and ``step_size`` (starting at ``lr``).

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Initial step size (default 1e-2).
    etas : (float, float)
        ``(etaminus, etaplus)``, with ``0 < etaminus < 1 < etaplus`` (default (0.5, 1.2)).
    step_sizes : (float, float)
        Minimal and maximal step sizes (default (1e-6, 50)).
    capturable, foreach, differentiable
        Accepted for PyTorch compatibility; flambeau always runs its in-place update.
    maximize : bool
        Maximize the objective.

    Raises
    ------
    ValueError
        ``"Rprop: Invalid learning rate: -1"`` for a negative ``lr``, ``"Rprop: Invalid eta
        values: ..."`` unless ``0 < etaminus < 1 < etaplus`` (PyTorch's messages after the
        class name).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import Rprop
    >>> w = flambeau.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Rprop([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad(); (w ** 2).sum().backward(); opt.step()
    >>> w, opt.state[w]["step_size"]
    (tensor([ 0.6360, -0.6360], requires_grad=True), tensor([0.1440, 0.1440]))
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _check_options(self, options):
        lr = options.get("lr")
        if lr is not None and not 0.0 <= lr:
            raise ValueError(f"Rprop: Invalid learning rate: {lr}")
        etas = options.get("etas")
        if etas is not None:
            if len(etas) != 2:
                raise ValueError(f"Rprop: etas must be a pair (etaminus, etaplus), got {etas!r}")
            if not 0.0 < etas[0] < 1.0 < etas[1]:
                raise ValueError(f"Rprop: Invalid eta values: {etas[0]}, {etas[1]}")
        sizes = options.get("step_sizes")
        if sizes is not None and len(sizes) != 2:
            raise ValueError("Rprop: step_sizes must be a pair (step_size_min, step_size_max), "
                             f"got {sizes!r}")

    def step(self, closure=None):
        """Perform one Rprop step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import Rprop
        >>> w = flambeau.tensor([1.0], requires_grad=True)
        >>> opt = Rprop([w], lr=0.25)
        >>> w.backward(flambeau.tensor([3.0])); opt.step(); w
        tensor([0.7500], requires_grad=True)
        """
        return self._step_groups(closure)

    def _update_group(self, group, params, grads):
        etaminus, etaplus = group["etas"]
        size_min, size_max = group["step_sizes"]
        maximize = group["maximize"]
        take = self._scratch.take
        for p, g in zip(params, grads, strict=True):
            s = self.state[p]
            if not s:
                s["step"] = new_step()
                s["prev"] = zeros_state(p)
                s["step_size"] = zeros_state(p, group["lr"])
            dev, pd = p._device, p._data
            xp, factor, masked = dev._xp, take(dev, pd), take(dev, pd, 1)
            bump_step(s["step"])
            prev, size = s["prev"]._data, s["step_size"]._data
            xp.multiply(g, prev, out=factor)
            if maximize:  # sign(-g * prev) without negating g
                xp.negative(factor, out=factor)
            xp.sign(factor, out=factor)  # NaN products stay NaN, as in PyTorch
            # the three masks are taken in turn, as PyTorch does, so each sees the values the
            # previous one wrote
            factor[factor > 0] = etaplus
            factor[factor < 0] = etaminus
            factor[factor == 0] = 1
            size *= factor
            xp.clip(size, size_min, size_max, out=size)
            flipped = factor == etaminus
            if maximize:
                xp.negative(g, out=masked)
            else:
                masked[...] = g
            masked[flipped] = 0
            prev[...] = masked
            xp.sign(masked, out=masked)
            masked *= size
            pd -= masked
            p._version_counter.value += 1
            for key in ("prev", "step_size"):
                s[key]._version_counter.value += 1
