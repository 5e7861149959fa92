"""pluggy hook specifications of flambeau (project name ``flambeau``).

A plugin is a module named by an entry point in the group ``flambeau``; it implements some of
these hooks with the :data:`hookimpl` marker. The built-in NumPy backend registers the same way.
"""

import pluggy

__all__ = ["hookspec", "hookimpl", "flambeau_backends"]

#: Marks a hook specification of the ``flambeau`` project.
hookspec = pluggy.HookspecMarker("flambeau")
#: Marks a plugin's implementation of a flambeau hook.
hookimpl = pluggy.HookimplMarker("flambeau")


@hookspec
def flambeau_backends():
    """Return the :class:`flambeau.backends.Backend` objects this plugin provides.

    Called once, the first time any device is used. Keep the plugin module's import light:
    import heavy libraries (CuPy, ...) inside the Backend's methods or when this hook runs.

    Examples
    --------
    >>> from flambeau.backends import Backend, hookimpl
    >>> @hookimpl
    ... def flambeau_backends():
    ...     return [Backend("mydev", xp=__import__("numpy"))]
    """
