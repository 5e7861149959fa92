"""The rendezvous of store-based backends ("gloo"): a store from ``init_method`` or ``store=``.

``env://`` reads ``MASTER_ADDR``, ``MASTER_PORT``, ``RANK`` and ``WORLD_SIZE`` (what
``flambeau.distributed.run`` and torchrun set) and makes a :class:`TCPStore` served by rank 0;
``tcp://host:port`` does the same with the address given; ``file://path`` shares a
:class:`FileStore`. ``rank`` and ``world_size`` arguments win over the environment and over a
URL's ``?rank=&world_size=`` query.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from datetime import timedelta

from flambeau.distributed._errors import DistNetworkError
from flambeau.distributed._store import FileStore, Store, TCPStore

__all__ = ["rendezvous", "join"]

SCHEMES = ("env://", "tcp://", "file://")


def _given(value) -> bool:
    return value is not None and value != -1


def _number(who, name, text, source):
    try:
        return int(text)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: {name} must be an integer, got {text!r} from {source}") from None


def _env(who, env_var, arg):
    if env_var not in os.environ:
        raise ValueError(
            f"{who}: init_method='env://' needs {env_var} in the environment{arg}; start the "
            "processes with `python -m flambeau.distributed.run --nproc-per-node N script.py` "
            "(or torchrun), or set MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE"
        )
    return os.environ[env_var]


def _from_env(who, name, value, env_var):
    if _given(value):
        return value
    return _number(who, env_var, _env(who, env_var, f" (or the {name}= argument)"),
                   "the environment")  # fmt: skip


def _check_ranks(who, rank, world_size, how):
    for name, value in (("world_size", world_size), ("rank", rank)):
        if not _given(value):
            raise ValueError(f"{who}: {how} needs rank= and world_size= (every process passes "
                             f"its own rank and the same world_size)")  # fmt: skip
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{who}: {name} must be an int, got {type(value).__name__}")
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"{who}: rank={rank} and world_size={world_size}: need world_size >= 1 "
                         f"and 0 <= rank < world_size")  # fmt: skip
    return rank, world_size


def rendezvous(who, init_method, store, rank, world_size):
    """``(make_store, rank, world_size)`` for a store-based backend, where
    ``make_store(seconds)`` returns the store; ValueError naming the fix."""
    if store is not None:
        if init_method is not None:
            raise ValueError(f"{who}: pass init_method or store, not both")
        if not isinstance(store, Store):
            raise TypeError(f"{who}: store must be a flambeau.distributed.Store, got "
                            f"{type(store).__name__}")  # fmt: skip
        return (lambda seconds: store, *_check_ranks(who, rank, world_size, "store="))
    method = "env://" if init_method is None else init_method
    if not isinstance(method, str) or not method.startswith(SCHEMES):
        raise ValueError(f"{who}: init_method={init_method!r} is not supported; use 'env://', "
                         f"'tcp://host:port' or 'file:///path', or pass store=")  # fmt: skip
    url = urllib.parse.urlsplit(method)
    query = dict(urllib.parse.parse_qsl(url.query))
    if not _given(rank) and "rank" in query:
        rank = _number(who, "rank", query["rank"], init_method)
    if not _given(world_size) and "world_size" in query:
        world_size = _number(who, "world_size", query["world_size"], init_method)
    if method.startswith("env://"):
        rank = _from_env(who, "rank", rank, "RANK")
        world_size = _from_env(who, "world_size", world_size, "WORLD_SIZE")
        host = _env(who, "MASTER_ADDR", "")
        port = _number(who, "MASTER_PORT", _env(who, "MASTER_PORT", ""), "the environment")
        how = "init_method='env://'"
    elif method.startswith("tcp://"):
        how = f"init_method={init_method!r}"
        try:
            host, port = url.hostname, url.port
        except ValueError:
            host = port = None
        if not host or port is None:
            raise ValueError(f"{who}: {how} must name a host and a port, as in "
                             "'tcp://127.0.0.1:29500'")  # fmt: skip
    else:
        how = f"init_method={init_method!r}"
        path = urllib.parse.unquote(url.netloc + url.path)
        if not path:
            raise ValueError(f"{who}: {how} must name a file, as in 'file:///tmp/rendezvous'")
        rank, world_size = _check_ranks(who, rank, world_size, how)
        return (lambda seconds: FileStore(path, world_size, timeout=timedelta(seconds=seconds)),
                rank, world_size)  # fmt: skip
    rank, world_size = _check_ranks(who, rank, world_size, how)
    if not 0 < port < 65536:
        raise ValueError(f"{who}: {how}: the port must be in [1, 65536), got {port}")
    return (lambda seconds: TCPStore(host, port, world_size, is_master=rank == 0,
                                     timeout=timedelta(seconds=seconds),
                                     wait_for_workers=False), rank, world_size)  # fmt: skip


def join(who, backend, init_method, store, rank, world_size, seconds):
    """The world communicator of a store-based ``backend``, and the store made for it (None
    when the caller passed ``store=``): the process group closes that one when destroyed.

    A worker may reach the master store of the previous group on the same port (destroyed,
    then initialized again) before rank 0 has closed it: when that connection drops during
    the rendezvous, the worker starts again on a new connection until the timeout.
    """
    made = store is None
    make_store, rank, world_size = rendezvous(who, init_method, store, rank, world_size)
    deadline = time.monotonic() + seconds
    while True:
        current = None
        try:
            current = make_store(max(deadline - time.monotonic(), 0.001))
            comm = backend.init_world(world_size, rank, seconds, store=current)
            return comm, (current if made else None)
        except BaseException as exc:
            if made and current is not None:
                _close(current)  # a master store frees its port now, not at garbage collection
            retry = isinstance(exc, DistNetworkError) and made and rank != 0
            if not retry or time.monotonic() + 0.05 > deadline:
                raise
            time.sleep(0.05)


def _close(store) -> None:
    close = getattr(store, "_close", None)
    if close is not None:
        close()
