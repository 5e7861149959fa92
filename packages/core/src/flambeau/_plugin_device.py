"""What the device modules of device types flambeau leaves to plugins (``flambeau.xpu``,
``flambeau.mps``) share: the installed backend of the type, when it sees a device, and the
default generators of its devices."""

from __future__ import annotations

from flambeau.backends import _registry


def available_backend(device_type):
    """The installed backend of ``device_type`` when it sees a device, else None.

    Examples
    --------
    >>> from flambeau._plugin_device import available_backend
    >>> available_backend("xpu") is None, available_backend("cpu").name
    (True, 'cpu')
    """
    b = _registry._loaded()[0].get(device_type)
    return b if b is not None and b.is_available() else None


def default_generators(device_type, every):
    """The default generators of the current device of ``device_type`` (or of every one);
    none when no backend sees one, as PyTorch ignores seeding calls then (seeding helpers run
    anywhere).

    Examples
    --------
    >>> from flambeau._plugin_device import default_generators
    >>> default_generators("xpu", every=True)
    []
    """
    from flambeau._random import default_generator_for

    b = available_backend(device_type)
    if b is None:
        return []
    current = getattr(b, "current_device", lambda: 0)()  # a Backend need not track one
    return [default_generator_for(f"{device_type}:{i}")
            for i in (range(b.device_count()) if every else [current])]
