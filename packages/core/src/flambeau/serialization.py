"""``flambeau.serialization``: the classes :func:`flambeau.load` may rebuild (PyTorch's
``torch.serialization`` allow-list).

With ``weights_only=True`` (the default) :func:`flambeau.load` never runs code from a file: it
rebuilds tensors, containers, numbers and strings, and refuses any other class or function
before calling it. A class you trust is added with :func:`add_safe_globals` (or, for one block
of code, :class:`safe_globals`); objects of that class then load, in flambeau checkpoints
(:func:`flambeau.save` stores any other object as pickle would: its class by name and its
state) and in PyTorch ``.pt`` files alike (allowing a flambeau class, such as
``flambeau.nn.Linear``, allows torch's class of that name in a PyTorch file, which loads as
flambeau's). ``weights_only=False`` rebuilds every class a flambeau checkpoint or PyTorch file
names, importing its module (torch's classes become flambeau's): only for trusted files.

Examples
--------
>>> import io
>>> from fractions import Fraction
>>> import flambeau
>>> buf = io.BytesIO()
>>> flambeau.save({"ratio": Fraction(1, 3)}, buf)
>>> _ = buf.seek(0)
>>> with flambeau.serialization.safe_globals([Fraction]):
...     flambeau.load(buf)
{'ratio': Fraction(1, 3)}
"""

from __future__ import annotations

__all__ = ["add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]

_SAFE: list = []


def _check(entries, op):
    if isinstance(entries, (str, bytes)) or not hasattr(entries, "__iter__"):
        raise TypeError(f"{op}: expected a list of classes or functions (or (object, "
                        f"'module.name') pairs), got {type(entries).__name__}")
    entries = list(entries)
    for entry in entries:
        ok = (isinstance(entry, tuple) and len(entry) == 2 and callable(entry[0])
              and isinstance(entry[1], str)) or (not isinstance(entry, tuple) and callable(entry))
        if not ok:
            raise TypeError(f"{op}: each entry must be a class or function, or an (object, "
                            f"'module.name') pair, got {entry!r}")
    return entries


def add_safe_globals(safe_globals) -> None:
    """Allow :func:`flambeau.load` to rebuild objects of these classes (or call these functions).

    Parameters
    ----------
    safe_globals : list
        Classes or functions, each matched by its ``module.qualname``; or ``(object,
        "module.name")`` pairs for an object saved under another name.

    Raises
    ------
    TypeError
        If ``safe_globals`` is not a list, or an entry is neither callable nor such a pair.

    Examples
    --------
    >>> import collections
    >>> import flambeau
    >>> Pair = collections.namedtuple("Pair", "a b")
    >>> flambeau.serialization.add_safe_globals([Pair])
    >>> Pair in flambeau.serialization.get_safe_globals()
    True
    >>> flambeau.serialization.clear_safe_globals()
    """
    for entry in _check(safe_globals, "add_safe_globals"):
        if entry not in _SAFE:
            _SAFE.append(entry)


def get_safe_globals() -> list:
    """The classes and functions added with :func:`add_safe_globals`, as a new list.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.serialization.get_safe_globals()
    []
    """
    return list(_SAFE)


def clear_safe_globals() -> None:
    """Forget every class and function added with :func:`add_safe_globals`.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.serialization.add_safe_globals([complex])
    >>> flambeau.serialization.clear_safe_globals()
    >>> flambeau.serialization.get_safe_globals()
    []
    """
    _SAFE.clear()


class safe_globals:
    """A context manager: :func:`add_safe_globals` for the block, then the previous list again.

    Parameters
    ----------
    safe_globals : list
        As for :func:`add_safe_globals`.

    Raises
    ------
    TypeError
        As :func:`add_safe_globals`.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.serialization.safe_globals([complex]):
    ...     flambeau.serialization.get_safe_globals()
    [<class 'complex'>]
    >>> flambeau.serialization.get_safe_globals()
    []
    """

    def __init__(self, safe_globals):
        self._entries = _check(safe_globals, "safe_globals")
        self._before = None

    def __enter__(self):
        self._before = list(_SAFE)
        add_safe_globals(self._entries)

    def __exit__(self, *exc):
        _SAFE[:] = self._before
        return False


def _full_name(obj) -> str:
    return f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', None)}"


def find(module: str, name: str):
    """The allow-listed object saved as ``module.name``, or None."""
    wanted = f"{module}.{name}"
    for entry in _SAFE:
        if isinstance(entry, tuple):
            if entry[1] == wanted:
                return entry[0]
        elif _full_name(entry) == wanted:
            return entry
    return None


#: the Tensor subclasses :func:`flambeau.load` rebuilds without :func:`add_safe_globals`, as
#: torch's ``weights_only`` allow-list has ``torch.nn.Parameter`` (torch's ``nn.Buffer`` is a
#: plain tensor with a mark, which that list takes too). flambeau-nn defines them: core knows
#: their names only, so where flambeau.nn is not imported they load as plain tensors
PARAMETER = "flambeau.nn.parameter.Parameter"
BUFFER = "flambeau.nn.parameter.Buffer"


def defined_tensor_class(full_name: str):
    """The Tensor subclass named ``module.qualname`` that this program defines, or None.

    Looked up among the subclasses that exist, so a file can name a class but never make
    :func:`flambeau.load` import a module.
    """
    from flambeau._tensor import Tensor

    found, todo = None, [Tensor]
    while todo:
        for sub in todo.pop().__subclasses__():
            if _full_name(sub) == full_name:
                found = sub  # the latest, where a class was defined again
            todo.append(sub)
    return found


def tensor_class(module: str, qualname: str, weights_only: bool):
    """The class a tensor saved as an instance of ``module.qualname`` loads as.

    An allowed class (:func:`add_safe_globals`); a Parameter or Buffer (None, a plain
    tensor, where flambeau.nn is not imported); with ``weights_only=False``, any Tensor
    subclass this program defines. Raises LookupError, with the message for the user,
    for any other class.
    """
    full = f"{module}.{qualname}"
    cls = find(module, qualname)
    if cls is not None:
        return cls
    if full in (PARAMETER, BUFFER):
        return defined_tensor_class(full)
    short = qualname.rpartition(".")[2]
    if weights_only:
        raise LookupError(
            f"refused to rebuild a tensor of class '{full}': with weights_only=True, "
            f"flambeau.load rebuilds Tensor, nn.Parameter, nn.Buffer and the classes allowed "
            f"with flambeau.serialization.add_safe_globals([{short}]) or the "
            f"flambeau.serialization.safe_globals([{short}]) context manager. If you trust the "
            f"file, pass weights_only=False: it rebuilds the Tensor subclasses your program "
            f"defines (still without running code from the file)")
    cls = defined_tensor_class(full)
    if cls is None:
        try:
            cls = import_global(f"{module}:{qualname}")
        except (ImportError, AttributeError) as exc:
            raise LookupError(f"can't rebuild a tensor of class '{full}': {exc}; import or "
                              f"define {short} under that name before loading") from None
    return cls


def import_global(name: str):
    """The class or function saved as ``"module:qualname"``, its module imported as pickle
    imports it: this runs that module's code, which is why only ``weights_only=False`` (for
    trusted files) gets here. Raises ImportError or AttributeError."""
    import importlib

    module, qualname = name.split(":")
    found = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def not_importable(name: str, exc: Exception) -> str:
    """The error message for a class or function (``module.name``) a file names that can't be
    imported."""
    return (f"can't rebuild '{name}': {exc}. Import or define it under that name before "
            "loading (a class of the script that saved the file lives in its __main__)")


def refusal_all(names: list) -> str:
    """The error message for a flambeau checkpoint naming classes or functions (``module.name``
    each) that ``weights_only=True`` does not allow."""
    short = ", ".join(n.rpartition(".")[2] for n in names)
    quoted = ", ".join(f"'{n}'" for n in names)
    return (f"refused to load the global{'s' if len(names) > 1 else ''} {quoted}: with "
            f"weights_only=True (the default) flambeau.load rebuilds tensors, nn.Parameter, "
            f"nn.Buffer, containers, numbers and strings, and the classes and functions allowed "
            f"with flambeau.serialization.add_safe_globals([{short}]) or the "
            f"flambeau.serialization.safe_globals([{short}]) context manager. If you trust the "
            f"file, pass weights_only=False: it imports the modules these are defined in and "
            f"runs their code (constructors, __setstate__), so only do it for a file from a "
            f"trusted source")


def refusal(module: str, name: str) -> str:
    """The error message for a global that is not allowed."""
    return refusal_all([f"{module}.{name}"])
