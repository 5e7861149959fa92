"""``flambeau.random``: the default random-number generators (PyTorch's ``torch.random``).

The seeding functions are the ones of the top level (``flambeau.manual_seed`` is
``flambeau.random.manual_seed``); :func:`fork_rng` adds a block whose random draws leave the
generators as they were.

Examples
--------
>>> import flambeau
>>> _ = flambeau.random.manual_seed(0)
>>> with flambeau.random.fork_rng():
...     _ = flambeau.rand(3)
>>> a = flambeau.rand(1)
>>> _ = flambeau.random.manual_seed(0)
>>> bool(a == flambeau.rand(1))
True
"""

from __future__ import annotations

import contextlib
import warnings

from flambeau._random import (
    default_generator_for,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"]

_warned_many_devices = False


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type=None):
    """A block after which the CPU and accelerator default generators are as before it.

    Parameters
    ----------
    devices : iterable of int, optional
        Indices of the accelerator devices whose generators are saved and restored; by default
        all of them (PyTorch warns when there are more than one, and so does flambeau).
    enabled : bool
        False makes the block a no-op (convenient for a flag).
    device_type : str, optional
        The accelerator's device type; by default the current accelerator
        (:func:`flambeau.accelerator.current_accelerator`), none on a CPU-only machine.

    Raises
    ------
    RuntimeError
        If ``device_type`` names a device type no installed backend provides.

    Examples
    --------
    >>> import flambeau
    >>> state = flambeau.get_rng_state()
    >>> with flambeau.random.fork_rng():
    ...     _ = flambeau.randn(4)
    >>> bool((flambeau.get_rng_state() == state).all())
    True
    """
    global _warned_many_devices
    if not enabled:
        yield
        return
    if device_type is None:
        from flambeau import accelerator

        acc = accelerator.current_accelerator()
        device_type = None if acc is None else acc.type
    elif device_type == "cpu":
        device_type = None
    saved = []  # (generator, state)
    if device_type is not None:
        from flambeau.backends import _registry

        count = _registry.get_backend(device_type).device_count()
        if devices is None:
            if count > 1 and not _warned_many_devices:
                warnings.warn(f"{device_type} reports that you have {count} available devices, "
                              f"and you have used {_caller} without explicitly specifying which "
                              f"devices are being used; the generators of all of them are saved "
                              f"and restored. Pass {_devices_kw}= to silence this warning.",
                              UserWarning, stacklevel=3)
                _warned_many_devices = True
            devices = range(count)
        for index in devices:
            gen = default_generator_for(f"{device_type}:{int(index)}")
            saved.append((gen, gen.get_state()))
    cpu = default_generator_for("cpu")
    saved.append((cpu, cpu.get_state()))
    try:
        yield
    finally:
        for gen, state in saved:
            gen.set_state(state)
