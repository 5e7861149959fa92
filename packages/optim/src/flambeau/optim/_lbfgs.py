"""L-BFGS with an optional strong-Wolfe line search (after minFunc, as PyTorch's LBFGS)."""

from __future__ import annotations

import math

from flambeau import Tensor
from flambeau.autograd import enable_grad, no_grad
from flambeau.optim._optimizer import Optimizer, _as_real, check_nonneg

__all__ = ["LBFGS"]


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimizer of the cubic through (x1, f1, g1), (x2, f2, g2), clamped to ``bounds``."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(disc)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _real(array):
    return _as_real(array) if array.dtype.kind == "c" else array


def _dense(grad):
    """A sparse gradient (``nn.Embedding(sparse=True)``) as the dense one it stands for, as
    torch's LBFGS flattens it."""
    return grad.to_dense() if grad.is_sparse else grad


def _array(value):
    return value._data if isinstance(value, Tensor) else value


class _Bracket:
    """The two ends of the zoom interval: step, loss, gradient and directional derivative."""

    def __init__(self, ends):
        self.t = [e[0] for e in ends]
        self.f = [e[1] for e in ends]
        self.g = [e[2] for e in ends]
        self.gtd = [e[3] for e in ends]

    def set(self, i, t, f, g, gtd):
        self.t[i], self.f[i], self.g[i], self.gtd[i] = t, f, g, gtd

    def low_high(self):
        return (0, 1) if self.f[0] <= self.f[-1] else (1, 0)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Find a step ``t`` along ``d`` meeting the strong Wolfe conditions.

    ``evaluate(t)`` returns the loss and flat gradient at ``x + t * d``. Returns
    ``(f_new, g_new, t, evaluations)``.
    """
    d_norm = float(abs(d).max())
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new.dot(d))
    prev = (0.0, f, g, gtd)
    done = False
    ls_iter = 0
    bracket = None
    # bracketing phase: grow the step until an interval is known to contain a good point
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= prev[1]):
            bracket = _Bracket([prev, (t, f_new, g_new.copy(), gtd_new)])
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = _Bracket([(t, f_new, g_new, gtd_new)])
            done = True
            break
        if gtd_new >= 0:
            bracket = _Bracket([prev, (t, f_new, g_new.copy(), gtd_new)])
            break
        lo, hi = t + 0.01 * (t - prev[0]), t * 10
        t_next = _cubic_minimum(prev[0], prev[1], prev[3], t, f_new, gtd_new, bounds=(lo, hi))
        prev = (t, f_new, g_new.copy(), gtd_new)
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = _Bracket([(0.0, f, g, gtd), (t, f_new, g_new, gtd_new)])

    # zoom phase: shrink the interval until the strong Wolfe conditions hold
    insufficient_progress = False
    low, high = bracket.low_high()
    while not done and ls_iter < max_ls:
        width = abs(bracket.t[1] - bracket.t[0])
        if width * d_norm < tolerance_change:
            break
        t = _cubic_minimum(bracket.t[0], bracket.f[0], bracket.gtd[0],
                           bracket.t[1], bracket.f[1], bracket.gtd[1])
        t_max, t_min = max(bracket.t), min(bracket.t)
        margin = 0.1 * (t_max - t_min)
        # a step too close to an end makes little progress: move it inside the interval
        if min(t_max - t, t - t_min) < margin:
            if insufficient_progress or t >= t_max or t <= t_min:
                t = t_max - margin if abs(t - t_max) < abs(t - t_min) else t_min + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket.f[low]:
            bracket.set(high, t, f_new, g_new.copy(), gtd_new)
            low, high = bracket.low_high()
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket.t[high] - bracket.t[low]) >= 0:
                bracket.set(high, bracket.t[low], bracket.f[low], bracket.g[low],
                            bracket.gtd[low])
            bracket.set(low, t, f_new, g_new.copy(), gtd_new)
    return bracket.f[low], bracket.g[low], bracket.t[low], evals


class LBFGS(Optimizer):
    """L-BFGS, PyTorch's ``torch.optim.LBFGS``: quasi-Newton steps from a short history.

    ``step(closure)`` runs up to ``max_iter`` iterations, re-evaluating the model through
    ``closure`` (which must zero the gradients, compute the loss, call ``backward`` and
    return the loss). All parameters form one group and should share a device and dtype.

    Parameters
    ----------
    params : iterable
        Tensors to optimize (a single group).
    lr : float
        Step length (default 1).
    max_iter : int
        Iterations per ``step`` (default 20).
    max_eval : int, optional
        Function evaluations per ``step`` (default ``max_iter * 5 // 4``).
    tolerance_grad, tolerance_change : float
        Stop when the largest gradient entry, or the change of loss or parameters, is below.
    history_size : int
        Number of curvature pairs kept (default 100).
    line_search_fn : {None, "strong_wolfe"}
        Line search; None takes fixed steps of ``lr``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import LBFGS
    >>> x = flambeau.tensor([3.0, -1.0], requires_grad=True)
    >>> opt = LBFGS([x], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((x - 1.0) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> x
    tensor([1., 1.], requires_grad=True)
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups); "
                             f"got {len(self.param_groups)} groups")
        self._params = self.param_groups[0]["params"]

    def _check_options(self, options):
        check_nonneg("LBFGS", options, "lr", "tolerance_grad", "tolerance_change")
        for key in ("max_iter", "max_eval", "history_size"):
            value = options.get(key)
            if value is not None and value < 1:
                raise ValueError(f"LBFGS: invalid {key} {value!r}; it must be >= 1")
        ls = options.get("line_search_fn")
        if ls not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {ls!r}")

    def add_param_group(self, param_group):
        """LBFGS has a single parameter group; a second one raises ValueError.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import LBFGS
        >>> opt = LBFGS([flambeau.ones(1, requires_grad=True)])
        >>> try:
        ...     opt.add_param_group({"params": [flambeau.ones(1, requires_grad=True)]})
        ... except ValueError as e:
        ...     print(e)
        LBFGS doesn't support per-parameter options (parameter groups)
        """
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ flat views
    def _xp(self):
        return self._params[0]._device._xp

    def _flat_grad(self):
        # complex parameters count as pairs of real numbers, as in PyTorch (view_as_real)
        xp = self._xp()
        parts = [xp.zeros(_real(p._data).size, dtype=_real(p._data).dtype) if p.grad is None
                 else _real(_dense(p.grad)._data).reshape(-1) for p in self._params]
        return xp.concatenate(parts)

    def _add_direction(self, t, d):
        offset = 0
        for p in self._params:
            data = _real(p._data)
            n = data.size
            data += (t * d[offset:offset + n]).reshape(data.shape).astype(data.dtype, copy=False)
            p._version_counter.value += 1
            offset += n

    def _save(self):
        return [p._data.copy() for p in self._params]

    def _restore(self, saved):
        for p, data in zip(self._params, saved, strict=True):
            p._data[...] = data
            p._version_counter.value += 1

    def _evaluate(self, closure):
        with enable_grad():
            loss = float(closure())
        return loss, self._flat_grad()

    # ------------------------------------------------------------------ step
    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss before them.

        Parameters
        ----------
        closure : callable
            Zeroes the gradients, computes and back-propagates the loss, returns it.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import LBFGS
        >>> x = flambeau.tensor([2.0], requires_grad=True)
        >>> opt = LBFGS([x], max_iter=5)
        >>> def closure():
        ...     opt.zero_grad(); loss = (x ** 2).sum(); loss.backward(); return loss
        >>> opt.step(closure).item()
        4.0
        """
        if closure is None:
            raise ValueError("LBFGS.step requires a closure that re-evaluates the loss")
        with no_grad():
            return self._run(closure)

    def _run(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if float(abs(flat_grad).max()) <= tol_grad:
            return orig_loss

        # state keeps Tensors (PyTorch's state_dict layout); the iterations work on arrays
        d, prev_flat_grad = _array(state.get("d")), _array(state.get("prev_flat_grad"))
        old_dirs = [_array(v) for v in state.get("old_dirs") or ()]
        old_stps = [_array(v) for v in state.get("old_stps") or ()]
        # ro, al and H_diag stay 0-d arrays of the parameters' dtype (0-d tensors in the
        # state, as PyTorch's), so float32 runs round as torch's and a resume is exact
        t, ro = state.get("t"), [_array(v) for v in state.get("ro") or ()]
        h_diag = _array(state.get("H_diag"))
        al = [_array(v) for v in state["al"]] if state.get("al") is not None else None
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if float(ys) > 1e-10:  # keep the pair only when the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(y.dot(y))
                if al is None:
                    al = [None] * history_size
                d = self._two_loop(flat_grad, old_dirs, old_stps, ro, h_diag, al)
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad.dot(d))
            if gtd > -tol_change:  # not a descent direction
                break

            if group["line_search_fn"] is not None:
                x0 = self._save()

                def evaluate(step, x0=x0, d=d):
                    self._add_direction(step, d)
                    out = self._evaluate(closure)
                    self._restore(x0)
                    return out

                loss, flat_grad, t, ls_evals = _strong_wolfe(evaluate, t, d, loss, flat_grad,
                                                             gtd)
                self._add_direction(t, d)
                opt_cond = float(abs(flat_grad).max()) <= tol_grad
            else:
                self._add_direction(t, d)
                ls_evals = 0
                opt_cond = False
                if n_iter != max_iter:
                    loss, flat_grad = self._evaluate(closure)
                    opt_cond = float(abs(flat_grad).max()) <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if float(abs(d * t).max()) <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        device = self._params[0]._device

        def wrap(v):
            return v if v is None or isinstance(v, int) else Tensor._make(v, device)

        state.update(d=wrap(d), t=t, old_dirs=[wrap(v) for v in old_dirs],
                     old_stps=[wrap(v) for v in old_stps], ro=[wrap(v) for v in ro],
                     H_diag=wrap(h_diag), prev_flat_grad=wrap(prev_flat_grad),
                     prev_loss=prev_loss)
        if al is not None:
            state["al"] = [wrap(v) for v in al]
        return orig_loss

    @staticmethod
    def _two_loop(flat_grad, old_dirs, old_stps, ro, h_diag, al):
        """The L-BFGS two-loop recursion: ``-H @ flat_grad`` from the stored pairs.

        ``al`` (``history_size`` slots) receives the first loop's coefficients.
        """
        n = len(old_dirs)
        q = -flat_grad
        for i in range(n - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q -= al[i] * old_dirs[i]
        r = q * h_diag
        for i in range(n):
            be_i = old_dirs[i].dot(r) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        return r
