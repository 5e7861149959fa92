"""pluggy hook specifications of flambeau.distributed (project name ``flambeau_distributed``).

A communication-backend plugin is a module named by an entry point in the group
``flambeau.distributed``; it implements :func:`flambeau_comm_backends` with the :data:`hookimpl`
marker. The built-in "gloo", "mpi" and "nccl" backends register the
same way.
"""

import pluggy

__all__ = ["hookspec", "hookimpl", "flambeau_comm_backends"]

#: Marks a hook specification of the ``flambeau_distributed`` project.
hookspec = pluggy.HookspecMarker("flambeau_distributed")
#: Marks a plugin's implementation of a flambeau.distributed hook.
hookimpl = pluggy.HookimplMarker("flambeau_distributed")


@hookspec
def flambeau_comm_backends():
    """Return the :class:`flambeau.distributed.CommBackend` objects this plugin provides.

    Called once, the first time a backend is looked up. Keep the plugin module's import light:
    import mpi4py, CuPy, ... inside the backend's methods.

    Examples
    --------
    >>> from flambeau.distributed import CommBackend
    >>> from flambeau.distributed.hookspecs import hookimpl
    >>> class Loopback(CommBackend):
    ...     name, device_types = "loopback", ("cpu",)
    >>> @hookimpl
    ... def flambeau_comm_backends():
    ...     return [Loopback()]
    >>> [b.name for b in flambeau_comm_backends()]
    ['loopback']
    """
