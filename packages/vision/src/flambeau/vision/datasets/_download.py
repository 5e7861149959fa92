"""Checked downloads: mirrors, MD5 verification, temporary names and atomic renames."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

__all__ = ["file_md5", "check_integrity", "download_file", "extract_tar", "extract_zip"]

_CHUNK = 1 << 20
_USER_AGENT = "flambeau-vision"


def file_md5(path, chunk_size: int = _CHUNK) -> str:
    """The hexadecimal MD5 digest of a file, read in chunks.

    Examples
    --------
    >>> import tempfile, os
    >>> from flambeau.vision.datasets import file_md5
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> file_md5(f.name)
    '900150983cd24fb0d6963f7d28e17f72'
    >>> os.remove(f.name)
    """
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def check_integrity(path, md5: str | None = None) -> bool:
    """Whether ``path`` is a file and, when ``md5`` is given, has that MD5 digest.

    Examples
    --------
    >>> from flambeau.vision.datasets import check_integrity
    >>> check_integrity("/no/such/file")
    False
    """
    path = Path(path)
    if not path.is_file():
        return False
    return md5 is None or file_md5(path) == md5


def _fetch(url: str, dest, timeout: float) -> str:
    """Stream ``url`` into the open file ``dest``; returns the MD5 of what was written."""
    digest = hashlib.md5(usedforsecurity=False)
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        for block in iter(lambda: response.read(_CHUNK), b""):
            digest.update(block)
            dest.write(block)
    return digest.hexdigest()


def download_file(urls, path, md5: str | None = None, timeout: float = 60.0) -> Path:
    """Download ``path`` from the first of ``urls`` that answers, verifying its MD5.

    A file already at ``path`` with the right digest is kept and nothing is fetched. The
    bytes go to a temporary file next to ``path`` that is renamed to ``path`` only after the
    checksum passes, so an interrupted or corrupt download never leaves a partial file.

    Parameters
    ----------
    urls : str or sequence of str
        Full addresses of the file, tried in order (mirrors); a network error moves on to
        the next one.
    path : str or path-like
        Destination file; its folder is created.
    md5 : str, optional
        Expected hexadecimal MD5 digest.
    timeout : float
        Seconds to wait for each server.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    RuntimeError
        On a checksum mismatch (the temporary file is deleted) or when no mirror answers.

    Examples
    --------
    >>> from flambeau.vision.datasets import download_file
    >>> download_file([], "/tmp/none")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    RuntimeError: download of none failed: no URL given
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    path = Path(path)
    if check_integrity(path, md5):
        return path
    if not urls:
        raise RuntimeError(f"download of {path.name} failed: no URL given")
    path.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as dest:
                actual = _fetch(url, dest, timeout)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            os.unlink(tmp)
            errors.append(f"{url}: {exc}")
            continue
        except BaseException:
            os.unlink(tmp)
            raise
        if md5 is not None and actual != md5:
            os.unlink(tmp)
            raise RuntimeError(
                f"checksum mismatch for {path.name} downloaded from {url}: expected MD5 {md5}, "
                f"got {actual}; the file was discarded"
            )
        os.replace(tmp, path)
        return path
    raise RuntimeError(f"download of {path.name} failed from every mirror:\n  " +
                       "\n  ".join(errors))


def extract_tar(archive, dest_dir, member_root: str | None) -> Path:
    """Extract the folder ``member_root`` of a tar archive into ``dest_dir`` atomically.

    The archive is unpacked into a temporary folder inside ``dest_dir`` (with tarfile's
    ``data`` filter, which refuses absolute paths, links out of the tree and device files)
    and ``member_root`` (which may be nested, ``"a/b"``) is moved into place only when
    extraction finished, replacing an older copy; ``member_root=None`` puts the whole archive
    into ``dest_dir``, next to the files already there.

    Examples
    --------
    >>> import io, tarfile, tempfile, pathlib
    >>> from flambeau.vision.datasets import extract_tar
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with tarfile.open(d / "a.tar", "w") as tar:
    ...     info = tarfile.TarInfo("top/x.txt"); info.size = 2
    ...     tar.addfile(info, io.BytesIO(b"hi"))
    >>> (extract_tar(d / "a.tar", d, "top") / "x.txt").read_text()
    'hi'
    """
    return _extract_staged(archive, dest_dir, member_root, _untar)


def _untar(archive, staging: Path) -> None:
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(staging, filter="data")
        else:  # Python 3.11.0-3.11.3 have no extraction filters: refuse what "data" refuses
            tar.extractall(staging, members=_safe_members(tar, archive))


def _safe_members(tar, archive):
    """The members of ``tar``, refusing (before any is written) what tarfile's ``data``
    filter refuses: absolute or escaping paths, links, devices and FIFOs."""
    members = tar.getmembers()
    for m in members:
        parts = Path(m.name).parts
        if Path(m.name).is_absolute() or ".." in parts or not (m.isfile() or m.isdir()):
            raise tarfile.TarError(f"{archive}: refusing to extract {m.name!r} (an absolute or "
                               "escaping path, a link or a special file)")
    return members


def _unzip(archive, staging: Path) -> None:
    # zipfile drops absolute prefixes and ".." components of member names itself
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
    except zipfile.BadZipFile as exc:
        raise RuntimeError(f"{archive}: not a readable zip archive: {exc}") from exc


def _extract_staged(archive, dest_dir, member_root, unpack, merge: bool = False) -> Path:
    """Unpack into a temporary folder next to the target; move ``member_root`` into place.

    ``member_root=None`` takes the whole archive and makes ``dest_dir`` itself the target;
    an existing ``dest_dir`` then always has the files merged in (it is the caller's folder,
    never deleted). ``merge=True`` moves the files into an existing target instead of
    replacing it (two archives that share a folder, as VOC 2007's train/val and test).
    """
    dest_dir = Path(dest_dir)
    merge = merge or member_root is None
    target = dest_dir if member_root is None else dest_dir / member_root
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".extract.", dir=target.parent))
    try:
        unpack(archive, staging)
        source = staging if member_root is None else staging / member_root
        if not source.is_dir():
            raise RuntimeError(f"{archive}: the archive has no folder {member_root!r}")
        if merge and target.is_dir():
            for path in sorted(p for p in source.rglob("*") if not p.is_dir()):
                destination = target / path.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, destination)
        else:
            if target.exists():
                shutil.rmtree(target)
            os.replace(source, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def extract_zip(archive, dest_dir, member_root: str | None) -> Path:
    """Extract the folder ``member_root`` of a zip archive into ``dest_dir`` atomically.

    As :func:`extract_tar`: the archive is unpacked into a temporary folder and
    ``member_root`` (which may be nested, ``"a/b"``; ``None`` for everything) is moved into
    place only when extraction finished.

    Examples
    --------
    >>> import tempfile, zipfile, pathlib
    >>> from flambeau.vision.datasets import extract_zip
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with zipfile.ZipFile(d / "a.zip", "w") as zf:
    ...     zf.writestr("top/x.txt", "hi")
    >>> (extract_zip(d / "a.zip", d, "top") / "x.txt").read_text()
    'hi'
    """
    return _extract_staged(archive, dest_dir, member_root, _unzip)


def _download_and_extract(urls, path, md5, dest_dir, member_root, merge: bool = False) -> Path:
    """:func:`download_file` then extract it as a zip or tar archive (read from its bytes)."""
    archive = download_file(urls, path, md5)
    unpack = _unzip if zipfile.is_zipfile(archive) else _untar
    return _extract_staged(archive, dest_dir, member_root, unpack, merge=merge)
