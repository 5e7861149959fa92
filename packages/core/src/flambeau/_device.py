"""Device objects: ``flambeau.device("cpu")``, ``"cuda:1"``; each knows its backend."""

from __future__ import annotations

from flambeau.backends import _registry

__all__ = ["device"]

_cache: dict = {}


class device:
    """A device type and optional index, as ``torch.device``.

    Parameters
    ----------
    type : str or device
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or any device type a backend plugin registers.
    index : int, optional
        The device index (``"cuda", 1`` is ``"cuda:1"``).

    Examples
    --------
    >>> import flambeau
    >>> d = flambeau.device("cuda:1")
    >>> d.type, d.index
    ('cuda', 1)
    >>> flambeau.device("cpu")
    device(type='cpu')
    """

    __slots__ = ("type", "index", "_backend", "_xp", "_atype")

    def __new__(cls, type, index=None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device) and index is None:
            return type
        key = (type, index)
        cached = _cache.get(key)
        if cached is not None:
            return cached
        if isinstance(type, int) and index is None:  # torch.device(0) means cuda:0
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string, a device or an int, got {type!r}")
        name = type
        if ":" in type:
            if index is not None:
                raise ValueError(f"device: {type!r} already has an index; got index={index}")
            name, _, idx = type.partition(":")
            if not idx.isdigit():
                raise ValueError(f"device: invalid device string {type!r} (expected 'type:index')")
            index = int(idx)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device: index must be a non-negative int, got {index!r}")
        canonical_key = (name, index)
        interned = _cache.get(canonical_key)
        if interned is not None:  # one object per device: ops compare devices with `is`
            _cache[key] = interned
            return interned
        if name not in _registry.KNOWN_PLUGINS and not _registry.has_backend(name):
            _registry.get_backend(name)  # raises, listing what is installed
        self = object.__new__(cls)
        self.type, self.index, self._backend, self._xp, self._atype = name, index, None, None, None
        _cache[key] = _cache[canonical_key] = self
        return self

    @property
    def backend(self):
        """The :class:`flambeau.backends.Backend` serving this device type."""
        b = self._backend
        if b is None:
            b = _registry.get_backend(self.type)
            if not b.is_available():
                raise RuntimeError(f"device {self}: {b.unavailable_reason()}")
            self._backend = b
            self._xp = b.xp
            self._atype = type(b.xp.zeros(0))
        return b

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):  # `with flambeau.device("cuda:1"):` sets the default device
        from flambeau import _defaults

        _defaults.push_device(self)
        return self

    def __exit__(self, *exc):
        from flambeau import _defaults

        _defaults.pop_device()


def canonical(dev) -> device:
    """The device a tensor actually lives on: ``cuda`` becomes ``cuda:<current>``."""
    if dev is None:
        from flambeau import _defaults

        return _defaults.default_device()
    d = device(dev)
    backend = d.backend  # binds the backend (and its array namespace) to the device object
    if d.type == "cpu":
        # CPU tensors carry no index (as torch's): a tensor made on 'cpu:0' is on 'cpu'
        return d if d.index is None else canonical("cpu")
    if d.index is None:
        if backend.device_count() > 0 and hasattr(backend, "current_device"):
            d = device(d.type, backend.current_device())
        else:
            d = device(d.type, 0)
        d.backend
    return d
