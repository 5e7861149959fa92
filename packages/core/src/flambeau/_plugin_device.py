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


def required(device_type, name):
    """The backend of ``device_type`` that sees a device, or PyTorch's RuntimeError for the
    call ``name`` without one.

    Examples
    --------
    >>> from flambeau._plugin_device import required
    >>> required("mps", "synchronize")
    Traceback (most recent call last):
    ...
    RuntimeError: Cannot execute synchronize() without MPS backend: no installed plugin ...
    """
    b = available_backend(device_type)
    if b is None:
        raise RuntimeError(f"Cannot execute {name}() without {device_type.upper()} backend: no "
                           f"installed plugin provides the {device_type!r} device type "
                           f"(flambeau.{device_type}.is_available() is False)")
    return b


def from_backend(device_type, name, *args):
    """What the backend's own ``name`` (a plugin's extra, not a Backend method) gives.

    Raises
    ------
    RuntimeError
        Without the device (see :func:`required`).
    NotImplementedError
        If the backend has no ``name``.

    Examples
    --------
    >>> from flambeau._plugin_device import from_backend
    >>> from_backend("cpu", "device_count")
    1
    """
    fn = getattr(required(device_type, name), name, None)
    if fn is None:
        raise NotImplementedError(f"flambeau.{device_type}.{name}: the installed "
                                  f"{device_type!r} backend does not provide it")
    return fn(*args)


_RAISE = object()


def backend_function(device_type, module, name, summary, absent=_RAISE):
    """The function ``name()`` of the device module ``module`` (its dotted name) that returns
    :func:`from_backend`'s ``name``: without the device it raises, or returns ``absent``.

    Examples
    --------
    >>> from flambeau._plugin_device import backend_function
    >>> count = backend_function("xpu", "flambeau.xpu", "count", "The count", absent=0)
    >>> count()
    0
    """
    if absent is _RAISE:
        def call():
            return from_backend(device_type, name)
        outcome = f"Raises\n------\nRuntimeError\n    Without {device_type.upper()}."
        example = (f">>> if flambeau.{device_type}.is_available():\n"
                   f"...     value = {module}.{name}()")
    else:
        def call():
            if available_backend(device_type) is None:
                return absent
            return from_backend(device_type, name)
        outcome = f"{absent!r} without {device_type.upper()}."
        example = f">>> {module}.{name}()\n{absent!r}"
    call.__name__ = call.__qualname__ = name
    call.__module__ = module
    call.__doc__ = (f"{summary} (the plugin's ``{name}``).\n\n{outcome}\n\nExamples\n--------\n"
                    f">>> import flambeau\n{example}\n")
    return call
