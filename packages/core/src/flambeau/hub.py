"""``flambeau.hub``: downloading checkpoints into a cache, as ``torch.hub`` does.

Programs import ``tqdm`` from here (``from torch.hub import tqdm``, as in pytorch/examples'
vision_transformer) and load pretrained weights with :func:`load_state_dict_from_url`.
:func:`list`, :func:`help` and :func:`load` run the entry points of a repository's
``hubconf.py``, from a local folder or from a GitHub repository downloaded once into the cache
(after asking whether you trust it, see :func:`load`).

The cache is ``$FLAMBEAU_HOME/hub``, else ``$XDG_CACHE_HOME/flambeau/hub``, else
``~/.cache/flambeau/hub``; :func:`set_dir` overrides it. Every download fails with a
``TimeoutError`` when the server sends nothing for 60 seconds.

Examples
--------
>>> import flambeau
>>> from flambeau.hub import tqdm
>>> sum(tqdm(range(4), disable=True))
6
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

# tqdm is importable from here (tqdm.tqdm, or a stand-in) but documented by the tqdm project
__all__ = ["get_dir", "set_dir", "download_url_to_file", "load_state_dict_from_url", "list",
           "help", "load"]


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
# Where GitHub repositories come from; tests point these at a server on 127.0.0.1.
_GITHUB = "https://github.com"
_GITHUB_API = "https://api.github.com"
_TIMEOUT = 60.0  # seconds a server may stay silent before a download fails
# torch.hub's list: repositories of these owners are trusted without asking
_TRUSTED_OWNERS = ("facebookresearch", "facebookincubator", "pytorch", "fairinternal")
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
    ConnectionError
        When the server sends fewer bytes than its ``Content-Length``; ``dst`` is not written.

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
    with _opened(url, "download_url_to_file") as response:
        size = response.headers.get("Content-Length")
        total = int(size) if size and size.isdigit() else None
        tmp = tempfile.NamedTemporaryFile(delete=False, dir=folder, prefix=".download-")
        try:
            bar = tqdm(total=total, disable=not progress, unit="B", unit_scale=True,
                       unit_divisor=1024, file=sys.stderr)
            received = 0
            with tmp, bar:
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    tmp.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
                    received += len(chunk)
            # http.client ends a body cut short as if it were complete: check the length
            if total is not None and received != total:
                raise ConnectionError(f"download_url_to_file: {url} ended after {received} of "
                                      f"{total} bytes; the connection was cut, try again")
            got = digest.hexdigest()
            if hash_prefix is not None and not got.startswith(hash_prefix):
                raise RuntimeError(f"download_url_to_file: invalid hash value for {url}: "
                                   f"expected a SHA-256 digest starting with {hash_prefix!r}, "
                                   f"got {got!r}")
            shutil.move(tmp.name, dst)
        finally:
            if os.path.exists(tmp.name):
                os.remove(tmp.name)


@contextlib.contextmanager
def _opened(url, caller, headers=None):
    """``urlopen(url)`` that gives up after ``_TIMEOUT`` silent seconds (while connecting or
    reading the body in the ``with`` block) with a TimeoutError naming ``caller`` and ``url``."""
    request = urllib.request.Request(url, headers={"User-Agent": "flambeau.hub",
                                                   **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            yield response
    except (TimeoutError, urllib.error.URLError) as e:
        # a silent connect is a URLError around the timeout; a silent read the timeout itself
        if not isinstance(getattr(e, "reason", e), TimeoutError):
            raise
        raise TimeoutError(f"{caller}: {url} sent nothing for {_TIMEOUT:g} seconds; the server "
                           "or the network is down, try again later") from e


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


def _repo_parts(github, caller):
    """``(owner, name, ref)`` of ``"owner/name[:ref]"``; without a ref, ``main`` when the
    repository has that branch, else ``master`` (offline: whichever is cached)."""
    found = re.fullmatch(r"([\w.-]+)/([\w.-]+)(?::(.+))?", github) if isinstance(
        github, str) else None
    if found is None:
        raise ValueError(f'{caller}: expected a GitHub repository as "owner/name[:ref]", '
                         f"got {github!r}")
    owner, name, ref = found.groups()
    if ref is not None:
        return owner, name, ref
    try:
        with _opened(f"{_GITHUB}/{owner}/{name}/tree/main/", caller):
            return owner, name, "main"
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return owner, name, "master"
        raise
    except (urllib.error.URLError, TimeoutError) as e:
        for ref in ("main", "master"):
            if os.path.isdir(os.path.join(get_dir(), f"{owner}_{name}_{ref}")):
                return owner, name, ref
        raise RuntimeError(f"{caller}: cannot reach {_GITHUB} ({e}) to find the default "
                           f"branch of {owner}/{name}, and it is not cached in {get_dir()}; "
                           f'name the branch ("{owner}/{name}:main") or connect') from e


def _check_trusted(owner, name, cached_name, trust_repo, caller):
    """torch.hub's trust rule: repositories listed in ``<hub>/trusted_list``, already cached
    or owned by ``_TRUSTED_OWNERS`` are trusted; ``trust_repo=False`` always asks, ``"check"``
    asks about the others, ``True`` and ``None`` trust (None warns about the untrusted).
    Trusted repositories are added to the list."""
    hub_dir = get_dir()
    listed = os.path.join(hub_dir, "trusted_list")
    if os.path.exists(listed):
        with open(listed) as f:
            trusted = {line.strip() for line in f}
    else:
        trusted = set()
    owner_name = f"{owner}_{name}"
    is_trusted = (owner_name in trusted or owner in _TRUSTED_OWNERS
                  or os.path.isdir(os.path.join(hub_dir, cached_name)))
    if trust_repo not in (True, False, None, "check"):
        raise ValueError(f'{caller}: trust_repo must be True, False, "check" or None, '
                         f"got {trust_repo!r}")
    if trust_repo is False or (trust_repo == "check" and not is_trusted):
        try:
            answer = input(f"The repository {owner_name} does not belong to the list of trusted "
                           "repositories and as such cannot be downloaded. Do you trust this "
                           "repository and wish to add it to the trusted list of repositories "
                           "(y/N)?").strip().lower()
        except EOFError:  # no one to ask: CI, a job without a terminal
            raise RuntimeError(
                f"Untrusted repository. {caller}: {owner}/{name} is not in the trusted list "
                f"({listed}) and there is no terminal to ask; pass trust_repo=True if you "
                "trust its code") from None
        if answer in ("n", "no", ""):
            raise RuntimeError(f"Untrusted repository. {caller}: {owner}/{name} was not "
                               "trusted, so its code was not downloaded")
        if answer not in ("y", "yes"):
            raise ValueError(f"Unrecognized response {answer!r}: answer y or n")
        if is_trusted:
            print("The repository is already trusted.")
    elif trust_repo is None and not is_trusted:
        import warnings

        warnings.warn(f"{caller}: running code from {owner}/{name}, a repository you have not "
                      'trusted before; trust_repo="check" asks first, trust_repo=True trusts '
                      "it without asking", UserWarning, stacklevel=5)
    if not is_trusted:
        os.makedirs(hub_dir, exist_ok=True)
        with open(listed, "a") as f:
            f.write(owner_name + "\n")


def _check_ref_is_in_repo(owner, name, ref, caller):
    """Refuse a ref that is neither a branch, a tag nor a commit of ``owner/name`` itself:
    GitHub serves a fork's commits under the original repository's name too."""
    headers = {"Accept": "application/vnd.github.v3+json"}
    if os.environ.get("GITHUB_TOKEN"):
        headers["Authorization"] = f"token {os.environ['GITHUB_TOKEN']}"
    for kind in ("branches", "tags"):
        page = 1
        while True:
            url = f"{_GITHUB_API}/repos/{owner}/{name}/{kind}?per_page=100&page={page}"
            try:
                with _opened(url, caller, headers) as response:
                    items = json.loads(response.read())
            except urllib.error.HTTPError:
                if "Authorization" not in headers:
                    raise
                del headers["Authorization"]  # a token without the rights: try anonymously
                continue
            if any(item["name"] == ref or item["commit"]["sha"].startswith(ref)
                   for item in items):
                return
            if len(items) < 100:  # the last page
                break
            page += 1
    raise ValueError(f"{caller}: cannot find {ref} in {_GITHUB}/{owner}/{name}. If it is a "
                     "commit of a fork, load from the fork, or pass skip_validation=True")


def _extract_repo(archive, folder, caller):
    """Unpack a GitHub zipball (one top folder) into ``folder``, refusing members that would
    land outside it."""
    with zipfile.ZipFile(archive) as z:
        for member in z.namelist():
            parts = member.replace("\\", "/").split("/")
            if member.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts:
                raise ValueError(f"{caller}: the archive entry {member!r} would be written "
                                 f"outside {folder}")
        tops = {m.split("/")[0] for m in z.namelist()}
        if len(tops) != 1:
            raise ValueError(f"{caller}: expected one top folder in the repository's archive, "
                             f"got {sorted(tops)}")
        unpacked = tempfile.mkdtemp(dir=os.path.dirname(folder), prefix=".unpack-")
        try:
            z.extractall(unpacked)
            if os.path.exists(folder):
                shutil.rmtree(folder)
            shutil.move(os.path.join(unpacked, tops.pop()), folder)
        finally:
            shutil.rmtree(unpacked)


def _repo_dir(github, force_reload, trust_repo, verbose, skip_validation, caller):
    """The cached folder of GitHub repository ``github``, downloaded when missing or asked."""
    owner, name, ref = _repo_parts(github, caller)
    hub_dir = get_dir()
    cached_name = f"{owner}_{name}_{ref.replace('/', '_')}"  # branches may hold "/"
    folder = os.path.join(hub_dir, cached_name)
    _check_trusted(owner, name, cached_name, trust_repo, caller)
    if not force_reload and os.path.isdir(folder):
        if verbose:
            sys.stderr.write(f"Using cache found in {folder}\n")
        return folder
    if not skip_validation:
        _check_ref_is_in_repo(owner, name, ref, caller)
    os.makedirs(hub_dir, exist_ok=True)
    archive = os.path.join(hub_dir, cached_name + ".zip")
    url = f"{_GITHUB}/{owner}/{name}/zipball/{ref}"
    if verbose:
        sys.stderr.write(f'Downloading: "{url}" to {archive}\n')
    try:
        try:
            download_url_to_file(url, archive, progress=False)
        except urllib.error.HTTPError as e:
            if e.code != 300:
                raise
            # 300 Multiple Choices: the ref names both a branch and a tag; as git and
            # torch.hub do, take the branch (the cache folder keeps the name asked for)
            import warnings

            warnings.warn(f"{caller}: the ref {ref} of {owner}/{name} is ambiguous (both a "
                          "branch and a tag?): taking the branch. Pass refs/heads/<branch> or "
                          "refs/tags/<tag> as the ref to choose (with skip_validation=True)",
                          UserWarning, stacklevel=4)
            url = f"{_GITHUB}/{owner}/{name}/zipball/refs/heads/{ref}"
            download_url_to_file(url, archive, progress=False)
        _extract_repo(archive, folder, caller)
    finally:
        if os.path.exists(archive):
            os.remove(archive)
    return folder


@contextlib.contextmanager
def _hubconf(folder, caller):
    """The module of ``folder/hubconf.py``, imported with ``folder`` first on ``sys.path`` (for
    the repository's own modules) until the block ends."""
    folder = os.fspath(folder)
    path = os.path.join(folder, "hubconf.py")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{caller}: no hubconf.py in {folder}")
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location("hubconf", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(folder)


def _entry_point(module, model, caller):
    """Entry point ``model`` of hubconf ``module``, after checking its ``dependencies``."""
    if not isinstance(model, str):
        raise ValueError(f"{caller}: model should be the name of an entry point (a str), "
                         f"got {type(model).__name__}")
    missing = []
    for dep in getattr(module, "dependencies", None) or ():
        try:
            found = importlib.util.find_spec(dep) is not None
        except ModuleNotFoundError:  # "pkg.sub" whose pkg is missing
            found = False
        if not found:
            missing.append(dep)
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)} ({caller}: "
                           f"{module.__file__} needs them; pip install them)")
    entry = getattr(module, model, None)
    if entry is None or not callable(entry):
        raise RuntimeError(f"{caller}: cannot find callable {model} in {module.__file__}; its "
                           f"entry points: {', '.join(_entry_names(module)) or 'none'}")
    return entry


def _entry_names(module):
    return [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]


def _folder(repo_or_dir, source, force_reload, trust_repo, verbose, skip_validation, caller):
    """The folder holding hubconf.py: ``repo_or_dir`` itself or its cached download."""
    if not isinstance(source, str) or source.lower() not in ("github", "local"):
        raise ValueError(f'{caller}: unknown source {source!r}; allowed values: "github" | '
                         '"local"')
    if source.lower() == "local":
        return repo_or_dir
    return _repo_dir(repo_or_dir, force_reload, trust_repo, verbose, skip_validation, caller)


def list(github, force_reload=False, skip_validation=False, trust_repo="check",  # noqa: A001
         verbose=True, *, source="github"):
    """The names of the entry points in a repository's ``hubconf.py``: its callables whose
    names do not start with ``_``.

    Parameters
    ----------
    github : str
        ``"owner/name[:ref]"`` (a branch, tag or commit; the default branch without one), or
        with ``source="local"`` a folder holding ``hubconf.py``.
    force_reload, skip_validation, trust_repo, verbose
        As for :func:`load`.
    source : {"github", "local"}
        Where ``github`` is (a flambeau addition: torch.hub.list only reads GitHub).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import flambeau, pathlib, tempfile
    >>> repo = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (repo / "hubconf.py").write_text(
    ...     "dependencies = ['numpy']\\n"
    ...     "def tiny(n=2):\\n"
    ...     "    '''A tensor of n ones.'''\\n"
    ...     "    import flambeau\\n"
    ...     "    return flambeau.ones(n)\\n"
    ...     "def _helper():\\n"
    ...     "    pass\\n")
    >>> flambeau.hub.list(str(repo), source="local")
    ['tiny']
    """
    folder = _folder(github, source, force_reload, trust_repo, verbose, skip_validation,
                     "hub.list")
    with _hubconf(folder, "hub.list") as module:
        return _entry_names(module)


def help(github, model, force_reload=False, skip_validation=False,  # noqa: A001
         trust_repo="check", *, source="github"):
    """The docstring of entry point ``model`` of a repository's ``hubconf.py``.

    Parameters
    ----------
    github : str
        ``"owner/name[:ref]"``, or with ``source="local"`` a folder holding ``hubconf.py``.
    model : str
        The entry point's name.
    force_reload, skip_validation, trust_repo
        As for :func:`load`.
    source : {"github", "local"}
        Where ``github`` is (a flambeau addition: torch.hub.help only reads GitHub).

    Returns
    -------
    str or None

    Examples
    --------
    >>> import flambeau, pathlib, tempfile
    >>> repo = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (repo / "hubconf.py").write_text("def net():\\n    'A small network.'\\n")
    >>> flambeau.hub.help(str(repo), "net", source="local")
    'A small network.'
    """
    folder = _folder(github, source, force_reload, trust_repo, True, skip_validation,
                     "hub.help")
    with _hubconf(folder, "hub.help") as module:
        return _entry_point(module, model, "hub.help").__doc__


def load(repo_or_dir, model, *args, source="github", trust_repo="check", force_reload=False,
         verbose=True, skip_validation=False, **kwargs):
    """Call entry point ``model`` of a repository's ``hubconf.py`` with ``*args`` and
    ``**kwargs`` and return what it returns (usually a model).

    With ``source="github"`` the repository's archive is downloaded from GitHub into
    ``get_dir()/<owner>_<name>_<ref>`` once and read from there afterwards. A missing module
    named in hubconf's ``dependencies`` list is an error before anything is called.

    Parameters
    ----------
    repo_or_dir : str
        ``"owner/name[:ref]"`` (a branch, tag or commit; ``main``, else ``master``, without
        one), or with ``source="local"`` a folder holding ``hubconf.py``.
    model : str
        The entry point's name.
    *args, **kwargs
        Passed to the entry point.
    source : {"github", "local"}
        Where ``repo_or_dir`` is.
    trust_repo : bool, "check" or None
        Downloading runs someone's code. Repositories you trusted before (listed in
        ``get_dir()/trusted_list``, or already downloaded) and those of PyTorch's owners are
        trusted. ``"check"`` asks about the others on the terminal (an error without one, as
        in CI); ``False`` always asks; ``True`` trusts without asking; ``None`` trusts with a
        warning. A trusted repository is added to the list. Unused with ``source="local"``.
    force_reload : bool
        Download again even when cached.
    verbose : bool
        Say on stderr when the cache is used.
    skip_validation : bool
        Do not ask GitHub's API (``$GITHUB_TOKEN`` authorizes) whether ``ref`` belongs to the
        repository rather than to a fork.

    Raises
    ------
    RuntimeError
        Untrusted repository, missing dependencies, or no such entry point.
    ValueError
        An unknown ``source``, a malformed repository name, or a ref not in the repository.
    TimeoutError
        When GitHub sends nothing for 60 seconds.

    Examples
    --------
    >>> import flambeau, pathlib, tempfile
    >>> repo = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (repo / "hubconf.py").write_text(
    ...     "def tiny(n=2):\\n"
    ...     "    import flambeau\\n"
    ...     "    return flambeau.ones(n)\\n")
    >>> flambeau.hub.load(str(repo), "tiny", 3, source="local")
    tensor([1., 1., 1.])
    """
    folder = _folder(repo_or_dir, source, force_reload, trust_repo, verbose, skip_validation,
                     "hub.load")
    with _hubconf(folder, "hub.load") as module:
        # still on sys.path: entry points often import the repository's modules when called
        return _entry_point(module, model, "hub.load")(*args, **kwargs)
