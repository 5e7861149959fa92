"""``flambeau.hub``: downloading checkpoints into a cache, as ``torch.hub`` does.

Programs import ``tqdm`` from here (``from torch.hub import tqdm``, as in pytorch/examples'
vision_transformer) and load pretrained weights with :func:`load_state_dict_from_url`.
Loading GitHub repositories' ``hubconf.py`` (``torch.hub.load``) runs code from the network
and is not provided.

The cache is ``$FLAMBEAU_HOME/hub``, else ``$XDG_CACHE_HOME/flambeau/hub``, else
``~/.cache/flambeau/hub``; :func:`set_dir` overrides it.

Examples
--------
>>> import flambeau
>>> from flambeau.hub import tqdm
>>> sum(tqdm(range(4), disable=True))
6
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request

# tqdm is importable from here (tqdm.tqdm, or a stand-in) but documented by the tqdm project
__all__ = ["get_dir", "set_dir", "download_url_to_file", "load_state_dict_from_url"]


class _Progress:
    """A silent stand-in for ``tqdm.tqdm`` when tqdm is not installed: iterates, counts, and
    accepts tqdm's keywords and the calls programs make (``set_postfix``, ``update``...)."""

    def __init__(self, iterable=None, desc=None, total=None, disable=False, **kwargs):
        self.iterable, self.desc, self.total, self.n = iterable, desc, total, 0

    def __iter__(self):
        for item in self.iterable:
            self.n += 1
            yield item

    def __len__(self):
        return len(self.iterable) if self.total is None else self.total

    def update(self, n=1):
        self.n += n

    def set_postfix(self, *args, **kwargs):
        pass

    def set_description(self, *args, **kwargs):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


try:
    from tqdm import tqdm
except ImportError:  # tqdm is optional: programs that only iterate with it still run
    tqdm = _Progress

_hub_dir = None
_HASH_IN_NAME = re.compile(r"-([a-f0-9]+)\.")  # "resnet18-5c106cde.pth": a sha256 prefix


def get_dir() -> str:
    """The folder that caches downloaded checkpoints (under ``checkpoints/``).

    ``$FLAMBEAU_HOME/hub``, else ``$XDG_CACHE_HOME/flambeau/hub``, else
    ``~/.cache/flambeau/hub``, unless :func:`set_dir` chose another.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.hub.get_dir().endswith("hub")
    True
    """
    if _hub_dir is not None:
        return _hub_dir
    home = os.environ.get("FLAMBEAU_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "flambeau")
    return os.path.join(home, "hub")


def set_dir(d) -> None:
    """Cache downloads in folder ``d`` from now on.

    Parameters
    ----------
    d : str or path-like
        The folder (``~`` is expanded); created when something is downloaded.

    Examples
    --------
    >>> import flambeau, tempfile
    >>> before = flambeau.hub.get_dir()
    >>> flambeau.hub.set_dir(tempfile.gettempdir())
    >>> flambeau.hub.get_dir() == tempfile.gettempdir()
    True
    >>> flambeau.hub.set_dir(before)
    """
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None,
                         progress: bool = True) -> None:
    """Download ``url`` to the file ``dst``, checking its SHA-256 when ``hash_prefix`` is given.

    The data goes to a temporary file next to ``dst``, moved into place only when complete
    and, with ``hash_prefix``, when its hex SHA-256 digest starts with it: an interrupted or
    corrupt download never leaves a file at ``dst``.

    Parameters
    ----------
    url : str
        What to download (``http(s)://``, ``file://``...).
    dst : str
        The file to write.
    hash_prefix : str, optional
        The start of the expected hex SHA-256 digest.
    progress : bool
        Show a progress bar on stderr (when tqdm is installed).

    Raises
    ------
    RuntimeError
        When the digest does not start with ``hash_prefix``; ``dst`` is not written.

    Examples
    --------
    >>> import flambeau, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "src.bin").write_bytes(b"weights")
    >>> flambeau.hub.download_url_to_file((folder / "src.bin").as_uri(), folder / "dst.bin",
    ...                                   hash_prefix="a1", progress=False)
    Traceback (most recent call last):
        ...
    RuntimeError: download_url_to_file: invalid hash value for ...: expected a SHA-256 ...
    >>> (folder / "dst.bin").exists()
    False
    """
    dst = os.path.expanduser(os.fspath(dst))
    folder = os.path.dirname(os.path.abspath(dst))
    digest = hashlib.sha256()
    with urllib.request.urlopen(urllib.request.Request(
            url, headers={"User-Agent": "flambeau.hub"})) as response:
        size = response.headers.get("Content-Length")
        total = int(size) if size and size.isdigit() else None
        tmp = tempfile.NamedTemporaryFile(delete=False, dir=folder, prefix=".download-")
        try:
            bar = tqdm(total=total, disable=not progress, unit="B", unit_scale=True,
                       unit_divisor=1024, file=sys.stderr)
            with tmp, bar:
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    tmp.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
            got = digest.hexdigest()
            if hash_prefix is not None and not got.startswith(hash_prefix):
                raise RuntimeError(f"download_url_to_file: invalid hash value for {url}: "
                                   f"expected a SHA-256 digest starting with {hash_prefix!r}, "
                                   f"got {got!r}")
            shutil.move(tmp.name, dst)
        finally:
            if os.path.exists(tmp.name):
                os.remove(tmp.name)


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location=None,
                             progress: bool = True, check_hash: bool = False,
                             file_name: str | None = None, weights_only: bool = False):
    """Load the checkpoint at ``url`` with :func:`flambeau.load`, downloading it once into a
    cache.

    Parameters
    ----------
    url : str
        The checkpoint (a flambeau, safetensors or PyTorch file).
    model_dir : str, optional
        The cache folder; ``get_dir()/checkpoints`` by default.
    map_location
        As for :func:`flambeau.load`.
    progress : bool
        Show a progress bar while downloading.
    check_hash : bool
        Check the download against the SHA-256 prefix in the file's name, the
        ``name-<hex prefix>.ext`` convention of published weights.
    file_name : str, optional
        The cached file's name; the URL's last path component by default.
    weights_only : bool
        As for :func:`flambeau.load`.

    Returns
    -------
    object
        What the file holds, usually a state dict.

    Examples
    --------
    >>> import flambeau, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> flambeau.save({"w": flambeau.ones(2)}, folder / "net.pt")
    >>> flambeau.hub.load_state_dict_from_url((folder / "net.pt").as_uri(),
    ...                                       model_dir=folder / "cache", progress=False)
    {'w': tensor([1., 1.])}
    """
    model_dir = os.fspath(model_dir) if model_dir is not None else os.path.join(
        get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    name = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    cached = os.path.join(model_dir, name)
    if not os.path.exists(cached):
        if progress:
            sys.stderr.write(f'Downloading: "{url}" to {cached}\n')
        found = _HASH_IN_NAME.search(name) if check_hash else None
        download_url_to_file(url, cached, found.group(1) if found else None, progress)
    from flambeau._serialization import load

    return load(cached, map_location=map_location, weights_only=weights_only)
