"""``swap_in_optimizer_params_and_state``: run an optimizer on other parameters and state for
the length of a ``with`` block, as ``torch.optim``'s function of that name."""

from __future__ import annotations

import contextlib
from collections import defaultdict

from flambeau import Tensor

__all__ = ["swap_in_optimizer_params_and_state"]

_WHO = "swap_in_optimizer_params_and_state"


def _packed_groups(optimizer, swapin_optim_state):
    """The ``(state, param_groups)`` of ``swapin_optim_state`` (an ``optimizer.state_dict()``
    layout), checked against ``optimizer``'s live groups before anything is swapped."""
    if not optimizer.state:
        raise RuntimeError(f"{_WHO}: the optimizer has no state yet; run a step (or load a "
                           "state dict) before swapping another state in")
    if not isinstance(swapin_optim_state, dict):
        raise RuntimeError(f"{_WHO}: swapin_optim_state must be an optimizer.state_dict()-"
                           f"style dict, got {type(swapin_optim_state).__name__}")
    state, groups = swapin_optim_state.get("state"), swapin_optim_state.get("param_groups")
    if not isinstance(state, dict):
        raise RuntimeError(f"{_WHO}: swapin_optim_state['state'] must be a dict of packed "
                           f"parameter ids to per-parameter state dicts, got "
                           f"{type(state).__name__}")
    if any(isinstance(k, Tensor) for k in state):
        raise RuntimeError(f"{_WHO}: swapin_optim_state['state'] is keyed by tensors (the "
                           "optimizer.state layout); pass optimizer.state_dict()'s, keyed by "
                           "packed parameter ids")
    if any(isinstance(k, int) and not isinstance(v, dict) for k, v in state.items()):
        raise RuntimeError(f"{_WHO}: each entry of swapin_optim_state['state'] must be a dict "
                           "of that parameter's state")
    if not isinstance(groups, list):
        raise RuntimeError(f"{_WHO}: swapin_optim_state['param_groups'] must be a list of "
                           f"param-group dicts, got {type(groups).__name__}")
    if len(groups) != len(optimizer.param_groups):
        raise RuntimeError(f"{_WHO}: swapin_optim_state has {len(groups)} parameter groups, "
                           f"the optimizer {len(optimizer.param_groups)}")
    for i, (live, group) in enumerate(zip(optimizer.param_groups, groups)):
        if not isinstance(group, dict):
            raise RuntimeError(f"{_WHO}: param group {i} of swapin_optim_state must be a dict, "
                               f"got {type(group).__name__}")
        ids = group.get("params")
        if not isinstance(ids, list) or not all(isinstance(k, int) for k in ids):
            raise RuntimeError(f"{_WHO}: param group {i}'s 'params' must be a list of packed "
                               "parameter ids (ints), as optimizer.state_dict() has")
        if len(ids) != len(live["params"]):
            raise RuntimeError(f"{_WHO}: param group {i} of swapin_optim_state has {len(ids)} "
                               f"params, the optimizer's {len(live['params'])}")
        only_new = [k for k in group if k not in live]
        only_live = [k for k in live if k not in group]
        if only_new or only_live:
            raise RuntimeError(f"{_WHO}: the keys of param group {i} must be the optimizer's: "
                               f"only in swapin_optim_state {only_new}, only in the optimizer "
                               f"{only_live}")
    known = {k for group in groups for k in group["params"]}
    extra = [k for k in state if k not in known]
    if extra:
        raise RuntimeError(f"{_WHO}: swapin_optim_state['state'] has entries for ids {extra} "
                           "that no param group lists")
    return state, groups


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters, swapin_optim_state):
    """Within the ``with`` block, ``optimizer`` works on ``swapin_parameters`` and the state
    and hyperparameters of ``swapin_optim_state``; on exit it has its own back.

    Unlike :meth:`~flambeau.optim.Optimizer.load_state_dict`, which changes the state only,
    this also swaps the parameters, so that ``optimizer.step()`` updates the tensors given.
    Everything that reads the optimizer in the block (hooks included) sees the swapped
    values. The state tensors are the given ones, so updates in place (``step()``'s) land in
    ``swapin_optim_state``; new entries or tensors assigned in the block are dropped on exit.

    Parameters
    ----------
    optimizer : Optimizer
        The live optimizer; it must have state already (a step made or a state loaded).
    swapin_parameters : dict of str to Tensor
        The parameters to use, in the order of the optimizer's parameters across its groups
        (usually ``model.named_parameters()``'s).
    swapin_optim_state : dict
        A dict laid out as ``optimizer.state_dict()``: ``"state"`` keyed by packed
        parameter ids and ``"param_groups"`` with the optimizer's group keys.

    Raises
    ------
    RuntimeError
        The optimizer has no state yet, or ``swapin_optim_state`` does not match its groups
        (number of groups, of parameters per group, group keys, ids); checked before anything
        is swapped.

    Examples
    --------
    >>> import copy, flambeau
    >>> from flambeau import optim
    >>> w = flambeau.ones(2, requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
    >>> w.grad = flambeau.ones(2); opt.step()
    >>> other = {"w": flambeau.zeros(2, requires_grad=True)}
    >>> other["w"].grad = flambeau.ones(2)
    >>> saved = copy.deepcopy(opt.state_dict())
    >>> with optim.swap_in_optimizer_params_and_state(opt, other, saved):
    ...     opt.step()
    >>> other["w"], w  # the swapped-in tensor moved, the live one did not
    (tensor([-0.1900, -0.1900], requires_grad=True), tensor([0.9000, 0.9000], requires_grad=True))
    >>> saved["state"][0]["momentum_buffer"]
    tensor([1.9000, 1.9000])
    """
    state, groups = _packed_groups(optimizer, swapin_optim_state)
    params = list(swapin_parameters.values())
    needed = sum(len(g["params"]) for g in groups)
    if len(params) < needed:
        raise RuntimeError(f"{_WHO}: got {len(params)} parameters for the optimizer's "
                           f"{needed}, given in the order of its param groups")
    live_state = optimizer.state
    live_groups = [dict(g) for g in optimizer.param_groups]  # the same params lists come back
    swapped = defaultdict(dict)
    start = 0
    try:
        for live, group in zip(optimizer.param_groups, groups):
            mine = params[start:start + len(group["params"])]
            start += len(mine)
            live.update((k, v) for k, v in group.items() if k != "params")
            live["params"] = mine
            for p, pid in zip(mine, group["params"]):
                swapped[p] = dict(state.get(pid, {}))  # in-place updates reach the caller's
        optimizer.state = swapped
        yield
    finally:
        for live, saved in zip(optimizer.param_groups, live_groups):
            live.clear()
            live.update(saved)
        optimizer.state = live_state
