"""``flambeau.xpu``: Intel GPUs, for the device-picking code that asks
``torch.xpu.is_available()`` (pytorch/examples' mnist_forward_forward does).

flambeau has no ``"xpu"`` device type of its own; a plugin may provide one (see
:mod:`flambeau.backends`), and these functions answer for whatever is installed: without
one, :func:`is_available` is False, :func:`device_count` 0 and seeding does nothing, as in a
PyTorch build without XPU.

Examples
--------
>>> import flambeau
>>> device = ("cuda" if flambeau.cuda.is_available() else
...           "xpu" if flambeau.xpu.is_available() else "cpu")
>>> device
'cpu'
"""

from __future__ import annotations

from flambeau._plugin_device import available_backend, default_generators

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "seed",
           "seed_all"]


def is_available() -> bool:
    """Whether an installed plugin provides the ``"xpu"`` device type and sees a device.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.xpu.is_available()
    False
    """
    return available_backend("xpu") is not None


def device_count() -> int:
    """The number of visible XPU devices (0 without a plugin that provides them).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.xpu.device_count()
    0
    """
    b = available_backend("xpu")
    return b.device_count() if b is not None else 0


def manual_seed(seed: int) -> None:
    """Seed the current XPU device's default generator; silently nothing without XPU.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.xpu.manual_seed(0)
    """
    for gen in default_generators("xpu", every=False):
        gen.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """As :func:`manual_seed`, for every XPU device.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.xpu.manual_seed_all(0)
    """
    for gen in default_generators("xpu", every=True):
        gen.manual_seed(seed)


def seed() -> None:
    """Seed the current XPU device's generator with a random number; nothing without XPU.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.xpu.seed()
    """
    for gen in default_generators("xpu", every=False):
        gen.seed()


def seed_all() -> None:
    """Seed every XPU device's generator with one random number; nothing without XPU.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.xpu.seed_all()
    """
    gens = default_generators("xpu", every=True)
    if gens:
        manual_seed_all(gens[0].seed())
