"""``flambeau.hub``: tqdm, the cache folder, checked downloads and cached checkpoints.

Downloads use ``file://`` URLs, so the tests need no network; torch.hub reads the same ones.
"""

import functools
import hashlib
import http.server
import json
import os
import socket
import sys
import threading
import types
import urllib.error
import warnings
import zipfile

import numpy as np
import pytest

import flambeau
from flambeau import hub
from flambeau.testing._harness import torch_or_none


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "out").mkdir()
    return tmp_path


def test_tqdm_is_tqdm_and_the_fallback_runs_programs_loops():
    tqdm = pytest.importorskip("tqdm")
    assert hub.tqdm is tqdm.tqdm and "tqdm" not in hub.__all__  # tqdm's own docs
    torch = torch_or_none()
    if torch is not None:
        assert torch.hub.tqdm is hub.tqdm
    bar = hub._Progress([3, 4], desc="EPOCH[TRAIN]1/2")  # vision_transformer's use
    seen = []
    for item in bar:
        seen.append(item)
        bar.set_postfix({"Loss": "%6f" % 0.5})
    assert seen == [3, 4] and bar.n == 2 and len(bar) == 2
    with hub._Progress(total=10, unit="B", disable=True) as b:
        b.update(4)
    assert b.n == 4 and len(b) == 10


def test_get_dir_follows_the_environment_and_set_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.delenv("FLAMBEAU_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == str(tmp_path / "xdg" / "flambeau" / "hub")
    monkeypatch.setenv("FLAMBEAU_HOME", str(tmp_path / "home"))
    assert hub.get_dir() == str(tmp_path / "home" / "hub")
    hub.set_dir(tmp_path / "chosen")
    assert hub.get_dir() == str(tmp_path / "chosen")


def test_download_checks_the_sha256_prefix_and_leaves_nothing_behind(folder):
    src = folder / "weights-00.bin"
    src.write_bytes(b"some weights" * 1000)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    dst = folder / "out" / "w.bin"
    hub.download_url_to_file(src.as_uri(), str(dst), hash_prefix=sha[:10], progress=False)
    assert dst.read_bytes() == src.read_bytes()
    bad = folder / "out" / "bad.bin"
    with pytest.raises(RuntimeError, match=rf"download_url_to_file: invalid hash value for "
                                           rf".*: expected a SHA-256 digest starting with "
                                           rf"'ffff', got '{sha}'"):
        hub.download_url_to_file(src.as_uri(), str(bad), hash_prefix="ffff", progress=False)
    assert sorted(os.listdir(folder / "out")) == ["w.bin"]  # no partial or temporary file
    torch = torch_or_none()
    if torch is not None:
        with pytest.raises(RuntimeError, match="invalid hash value"):
            torch.hub.download_url_to_file(src.as_uri(), str(bad), hash_prefix="ffff",
                                           progress=False)


class _CutShort(http.server.BaseHTTPRequestHandler):
    """Promises 1000 bytes, sends 10 and hangs up."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"0123456789")
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_download_cut_short_fails_and_leaves_nothing_behind(folder):
    # http.client returns a truncated body as if complete; without a hash it was cached
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CutShort)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/w.bin"
    try:
        with pytest.raises(ConnectionError, match=f"download_url_to_file: {url} ended after "
                                                  "10 of 1000 bytes"):
            hub.download_url_to_file(url, str(folder / "out" / "w.bin"), progress=False)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert os.listdir(folder / "out") == []


def test_load_state_dict_from_url_reads_a_torch_checkpoint_once(folder):
    torch = pytest.importorskip("torch")
    state = {"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.tensor([0.5, -1.0])}
    raw = folder / "net.pt"
    torch.save(state, raw)
    sha = hashlib.sha256(raw.read_bytes()).hexdigest()
    src = folder / f"net-{sha[:8]}.pt"
    raw.rename(src)
    cache = folder / "cache"
    got = hub.load_state_dict_from_url(src.as_uri(), model_dir=str(cache), progress=False,
                                       check_hash=True)
    want = torch.hub.load_state_dict_from_url(src.as_uri(), model_dir=str(folder / "tcache"),
                                              progress=False, check_hash=True)
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_array_equal(got[k].cpu().numpy(), want[k].numpy())
    assert isinstance(got["weight"], flambeau.Tensor)
    src.unlink()  # cached: no second download
    again = hub.load_state_dict_from_url(src.as_uri(), model_dir=str(cache), progress=False)
    np.testing.assert_array_equal(again["bias"].cpu().numpy(), [0.5, -1.0])
    named = hub.load_state_dict_from_url((cache / src.name).as_uri(), model_dir=str(cache / "x"),
                                         file_name="renamed.pt", progress=False)
    assert sorted(os.listdir(cache / "x")) == ["renamed.pt"] and list(named) == list(want)


def test_load_state_dict_from_url_refuses_a_download_that_does_not_match_its_name(folder):
    src = folder / "net-deadbeef.pt"
    flambeau.save({"w": flambeau.ones(2)}, str(src))
    with pytest.raises(RuntimeError, match="expected a SHA-256 digest starting with "
                                           "'deadbeef'"):
        hub.load_state_dict_from_url(src.as_uri(), model_dir=str(folder / "c"),
                                     check_hash=True, progress=False)
    assert os.listdir(folder / "c") == []
    # without check_hash the name is not checked
    got = hub.load_state_dict_from_url(src.as_uri(), model_dir=str(folder / "c"),
                                       progress=False)
    np.testing.assert_array_equal(got["w"].cpu().numpy(), [1.0, 1.0])


# --- hubconf.py entry points: list / help / load -------------------------------------------

_HUBCONF = '''"""A tiny hub repository."""
import helpers

dependencies = ["numpy"]


def ones(n=2, *, scale=1.0):
    """A vector of n ones times scale."""
    return helpers.scaled(n, scale)


class Net:
    """A callable class is an entry point too."""


def _private():
    pass


NOT_CALLABLE = 3
'''
_HELPERS = '''def scaled(n, scale):
    return [scale] * n
'''


def _write_repo(folder, hubconf=_HUBCONF):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hubconf.py").write_text(hubconf)
    (folder / "helpers.py").write_text(_HELPERS)
    return folder


def test_local_list_help_and_load_match_torch(tmp_path, monkeypatch):
    repo = _write_repo(tmp_path / "repo")
    assert hub.list(str(repo), source="local") == ["Net", "ones"]
    assert hub.help(str(repo), "ones", source="local") == "A vector of n ones times scale."
    assert hub.load(str(repo), "ones", 3, source="local", scale=0.5) == [0.5, 0.5, 0.5]
    assert hub.load(repo, "ones", source="LOCAL") == [1.0, 1.0]  # path-like, any case
    assert str(repo) not in sys.path  # the repository's folder is only on sys.path meanwhile
    torch = torch_or_none()
    if torch is not None:
        assert torch.hub.load(str(repo), "ones", 3, source="local", scale=0.5) == [0.5] * 3
        # torch lists and helps only from GitHub: point its cache lookup at the folder
        monkeypatch.setattr(torch.hub, "_get_cache_or_reload", lambda *a, **k: str(repo))
        assert torch.hub.list("o/r") == hub.list(str(repo), source="local")
        assert torch.hub.help("o/r", "ones") == hub.help(str(repo), "ones", source="local")


def test_local_errors(tmp_path):
    repo = _write_repo(tmp_path / "repo")
    torch = torch_or_none()
    with pytest.raises(ValueError, match=r"hub.load: unknown source 'gitlab'; allowed values: "
                                         r'"github" \| "local"'):
        hub.load(str(repo), "ones", source="gitlab")
    with pytest.raises(RuntimeError, match=r"hub.load: cannot find callable nope in .*hubconf"
                                           r"\.py; its entry points: Net, ones"):
        hub.load(str(repo), "nope", source="local")
    with pytest.raises(RuntimeError, match="cannot find callable NOT_CALLABLE"):
        hub.help(str(repo), "NOT_CALLABLE", source="local")
    with pytest.raises(ValueError, match=r"hub.load: model should be the name of an entry "
                                         r"point \(a str\), got int"):
        hub.load(str(repo), 3, source="local")
    with pytest.raises(FileNotFoundError, match=r"hub.list: no hubconf.py in "):
        hub.list(str(tmp_path), source="local")
    if torch is not None:
        with pytest.raises(ValueError, match="Unknown source"):
            torch.hub.load(str(repo), "ones", source="gitlab")
        with pytest.raises(RuntimeError, match="Cannot find callable nope"):
            torch.hub.load(str(repo), "nope", source="local")
        with pytest.raises(ValueError, match="should be a string"):
            torch.hub.load(str(repo), 3, source="local")


def test_missing_dependencies_are_named_before_the_entry_point_runs(tmp_path):
    hubconf = _HUBCONF.replace('["numpy"]', '["numpy", "no_such_mod_a", "no_such_mod_b.sub"]')
    repo = _write_repo(tmp_path / "repo", hubconf)
    with pytest.raises(RuntimeError, match=r"^Missing dependencies: no_such_mod_a, "
                                           r"no_such_mod_b.sub \(hub.load: .*hubconf.py needs "
                                           r"them; pip install them\)"):
        hub.load(str(repo), "ones", source="local")
    with pytest.raises(RuntimeError, match="^Missing dependencies: no_such_mod_a"):
        hub.help(str(repo), "ones", source="local")
    assert hub.list(str(repo), source="local") == ["Net", "ones"]  # listing needs none
    torch = torch_or_none()
    if torch is not None:  # torch raises ModuleNotFoundError for "no_such_mod_b.sub"
        _write_repo(repo, _HUBCONF.replace('["numpy"]', '["numpy", "no_such_mod_a"]'))
        with pytest.raises(RuntimeError, match="^Missing dependencies: no_such_mod_a$"):
            torch.hub.load(str(repo), "ones", source="local")


# --- GitHub repositories, served from 127.0.0.1 --------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def github(tmp_path, monkeypatch):
    """A fake GitHub (site and API) on 127.0.0.1 serving ``tmp_path/site``, with the hub's
    cache in ``tmp_path/hub``; ``publish(owner, name, ref)`` serves a repository's zipball."""
    site = tmp_path / "site"
    site.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(hub, "_GITHUB", base)
    monkeypatch.setattr(hub, "_GITHUB_API", base + "/api")
    monkeypatch.setattr(hub, "_hub_dir", str(tmp_path / "hub"))

    def publish(owner, name, ref, hubconf=_HUBCONF, sha="0123abcd", branches=None):
        archive = site / owner / name / "zipball" / ref
        archive.parent.mkdir(parents=True, exist_ok=True)
        top = f"{owner}-{name}-{sha}/"
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr(top, "")
            z.writestr(top + "hubconf.py", hubconf)
            z.writestr(top + "helpers.py", _HELPERS)
        (site / owner / name / "tree" / ref).mkdir(parents=True, exist_ok=True)
        api = site / "api" / "repos" / owner / name
        api.mkdir(parents=True, exist_ok=True)
        names = branches if branches is not None else [ref]
        (api / "branches").write_text(json.dumps(
            [{"name": b, "commit": {"sha": sha + "ffff"}} for b in names]))
        (api / "tags").write_text("[]")
        return archive

    try:
        yield types.SimpleNamespace(site=site, base=base, publish=publish,
                                    hub=tmp_path / "hub")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_github_downloads_once_into_the_cache_and_trusts_the_repository(github, capsys):
    github.publish("alice", "models", "main")
    assert hub.load("alice/models", "ones", 2, trust_repo=True, scale=2.0) == [2.0, 2.0]
    assert sorted(os.listdir(github.hub)) == ["alice_models_main", "trusted_list"]
    assert (github.hub / "trusted_list").read_text() == "alice_models\n"
    assert "Downloading" in capsys.readouterr().err
    (github.site / "alice" / "models" / "zipball" / "main").unlink()  # cached: not needed
    assert hub.list("alice/models") == ["Net", "ones"]  # trusted now: "check" does not ask
    assert hub.help("alice/models:main", "ones") == "A vector of n ones times scale."
    assert "Using cache found in" in capsys.readouterr().err
    hub.load("alice/models", "ones", verbose=False)
    assert capsys.readouterr().err == ""
    assert (github.hub / "trusted_list").read_text() == "alice_models\n"  # added once


def test_github_default_branch_is_main_else_master_and_refs_with_slashes(github):
    github.publish("bob", "old", "master")
    assert hub.list("bob/old", trust_repo=True) == ["Net", "ones"]
    assert os.path.isdir(github.hub / "bob_old_master")
    github.publish("bob", "new", "release/v1", branches=["release/v1"])
    hub.list("bob/new:release/v1", trust_repo=True)
    assert os.path.isdir(github.hub / "bob_new_release_v1")


def test_github_force_reload_downloads_again(github):
    github.publish("carol", "r", "main")
    hub.load("carol/r", "ones", trust_repo=True)
    github.publish("carol", "r", "main", hubconf=_HUBCONF + "\ndef added():\n    pass\n",
                   sha="99")
    assert "added" not in hub.list("carol/r")
    assert "added" in hub.list("carol/r", force_reload=True)
    assert sorted(os.listdir(github.hub)) == ["carol_r_main", "trusted_list"]  # no zip left


def test_github_validation_refuses_a_ref_of_a_fork_unless_skipped(github, monkeypatch):
    github.publish("dave", "r", "main", branches=["main"])
    github.publish("dave", "r", "fork-branch", branches=["main"])
    with pytest.raises(ValueError, match=r"hub.load: cannot find fork-branch in "
                                         r"http://127.0.0.1:\d+/dave/r. If it is a commit of a "
                                         r"fork, load from the fork, or pass "
                                         r"skip_validation=True"):
        hub.load("dave/r:fork-branch", "ones", trust_repo=True)
    assert hub.load("dave/r:fork-branch", "ones", trust_repo=True,
                    skip_validation=True) == [1.0, 1.0]
    monkeypatch.setenv("GITHUB_TOKEN", "secret")  # accepted (our server ignores it)
    assert hub.list("dave/r:main", trust_repo=True, force_reload=True) == ["Net", "ones"]


def test_github_commit_prefix_validates(github):
    github.publish("erin", "r", "0123ab", sha="0123abcd")
    assert hub.load("erin/r:0123ab", "ones", trust_repo=True) == [1.0, 1.0]


def test_trust_prompt_answers_and_errors(github, monkeypatch):
    github.publish("frank", "r", "main")
    answers = []
    monkeypatch.setattr("builtins.input", lambda prompt: answers.pop(0))
    for answer in ("n", "", "No"):
        answers.append(answer)
        with pytest.raises(RuntimeError, match=r"^Untrusted repository. hub.load: frank/r was "
                                               r"not trusted, so its code was not downloaded"):
            hub.load("frank/r", "ones")
    answers.append("maybe")
    with pytest.raises(ValueError, match=r"Unrecognized response 'maybe': answer y or n"):
        hub.load("frank/r", "ones")
    assert not os.path.exists(github.hub / "frank_r_main")  # nothing downloaded
    answers.append("Y")
    assert hub.load("frank/r", "ones") == [1.0, 1.0]
    assert (github.hub / "trusted_list").read_text() == "frank_r\n"
    hub.load("frank/r", "ones")  # "check": trusted now, no question (answers is empty)
    answers.append("yes")
    hub.load("frank/r", "ones", trust_repo=False)  # False always asks
    assert answers == []
    with pytest.raises(ValueError, match=r'hub.load: trust_repo must be True, False, "check" '
                                         r"or None, got 'always'"):
        hub.load("frank/r", "ones", trust_repo="always")


def test_trust_without_a_terminal_is_an_error_saying_how_to_trust(github, monkeypatch):
    github.publish("gina", "r", "main")

    def no_terminal(prompt):
        raise EOFError

    monkeypatch.setattr("builtins.input", no_terminal)
    with pytest.raises(RuntimeError, match=r"^Untrusted repository. hub.list: gina/r is not in "
                                           r"the trusted list \(.*trusted_list\) and there is no "
                                           r"terminal to ask; pass trust_repo=True"):
        hub.list("gina/r")
    with pytest.warns(UserWarning, match=r"hub.load: running code from gina/r, a repository "
                                         r"you have not trusted before") as record:
        hub.load("gina/r", "ones", trust_repo=None)
    assert record[0].filename == __file__  # points at the caller
    github.publish("pytorch", "r", "main")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hub.load("gina/r", "ones", trust_repo=None)  # trusted now: no warning
        hub.load("pytorch/r", "ones")  # PyTorch's owners: trusted without asking or warning


def test_github_name_and_network_errors(github, monkeypatch):
    with pytest.raises(ValueError, match=r'hub.load: expected a GitHub repository as '
                                         r'"owner/name\[:ref\]", got \'alice\''):
        hub.load("alice", "ones", trust_repo=True)
    with pytest.raises(urllib.error.HTTPError, match="404"):  # no such branch
        hub.load("nobody/r:main", "ones", trust_repo=True, skip_validation=True)
    monkeypatch.setattr(hub, "_GITHUB", "http://127.0.0.1:9")  # nothing listens (discard)
    with pytest.raises(RuntimeError, match=r"hub.load: cannot reach http://127.0.0.1:9 .* to "
                                           r"find the default branch of x/y, and it is not "
                                           r'cached in .*; name the branch \("x/y:main"\)'):
        hub.load("x/y", "ones", trust_repo=True)
    (github.hub / "x_y_master").mkdir(parents=True)  # offline, but cached
    (github.hub / "x_y_master" / "hubconf.py").write_text("def f():\n    return 5\n")
    assert hub.load("x/y", "f") == 5


def test_unsafe_archives_are_refused(github):
    archive = github.publish("hal", "r", "main")
    for members, message in (
            (["hal-r-1/hubconf.py", "hal-r-1/../../evil.py"],
             r"hub.load: the archive entry 'hal-r-1/../../evil.py' would be written outside"),
            (["a/hubconf.py", "b/x.py"],
             r"hub.load: expected one top folder in the repository's archive, got \['a', 'b'\]")):
        with zipfile.ZipFile(archive, "w") as z:
            for member in members:
                z.writestr(member, "")
        with pytest.raises(ValueError, match=message):
            hub.load("hal/r", "ones", trust_repo=True)
    assert sorted(os.listdir(github.hub)) == ["trusted_list"]  # no zip, no half repository


def test_github_mode_matches_torch_cache_layout(github, tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    github.publish("ivy", "r", "main")
    monkeypatch.setattr(torch.hub, "_git_archive_link",
                        lambda o, n, ref: f"{github.base}/{o}/{n}/zipball/{ref}")
    before = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "torch_hub"))
    try:
        want = torch.hub.load("ivy/r:main", "ones", 2, trust_repo=True, skip_validation=True,
                              scale=3.0)
    finally:
        torch.hub.set_dir(before)
    got = hub.load("ivy/r:main", "ones", 2, trust_repo=True, skip_validation=True, scale=3.0)
    assert got == want == [3.0, 3.0]
    assert sorted(os.listdir(github.hub)) == sorted(os.listdir(tmp_path / "torch_hub"))
    assert (github.hub / "trusted_list").read_text() == \
        (tmp_path / "torch_hub" / "trusted_list").read_text()


def _answer_300_for(monkeypatch, *paths):
    """Make the fake GitHub answer 300 Multiple Choices for ``paths``, as GitHub does for the
    zipball of a ref that is both a branch and a tag."""
    serve = _QuietHandler.do_GET

    def do_get(handler):
        if handler.path in paths:
            handler.send_error(300, "Multiple Choices")
        else:
            serve(handler)

    monkeypatch.setattr(_QuietHandler, "do_GET", do_get)


def test_an_ambiguous_ref_is_taken_as_the_branch_as_torch(github, tmp_path, monkeypatch):
    github.publish("jo", "r", "refs/heads/v1", branches=["v1"],
                   hubconf=_HUBCONF + "\ndef branch():\n    return 'branch'\n")
    github.publish("jo", "r", "refs/tags/v1", branches=["v1"])
    _answer_300_for(monkeypatch, "/jo/r/zipball/v1")
    with pytest.warns(UserWarning, match=r"^hub.load: the ref v1 of jo/r is ambiguous \(both a "
                                         r"branch and a tag\?\): taking the branch. Pass "
                                         r"refs/heads/<branch> or refs/tags/<tag>"):
        got = hub.load("jo/r:v1", "branch", trust_repo=True)
    assert got == "branch"
    assert sorted(os.listdir(github.hub)) == ["jo_r_v1", "trusted_list"]
    torch = torch_or_none()
    if torch is not None:
        monkeypatch.setattr(torch.hub, "_git_archive_link",
                            lambda o, n, ref: f"{github.base}/{o}/{n}/zipball/{ref}")
        before = torch.hub.get_dir()
        torch.hub.set_dir(str(tmp_path / "torch_hub"))
        try:
            with pytest.warns(UserWarning, match="The ref v1 is ambiguous"):
                want = torch.hub.load("jo/r:v1", "branch", trust_repo=True,
                                      skip_validation=True)
        finally:
            torch.hub.set_dir(before)
        assert want == got
        assert sorted(os.listdir(tmp_path / "torch_hub")) == sorted(os.listdir(github.hub))


def test_other_http_errors_of_the_archive_are_raised(github, monkeypatch):
    github.publish("jo", "s", "main")
    _answer_300_for(monkeypatch, "/jo/s/zipball/main", "/jo/s/zipball/refs/heads/main")
    with pytest.raises(urllib.error.HTTPError, match="300"), pytest.warns(UserWarning):
        hub.list("jo/s:main", trust_repo=True)  # the branch's archive answers 300 too
    github.publish("jo", "t", "main")
    (github.site / "jo" / "t" / "zipball" / "main").unlink()
    with pytest.raises(urllib.error.HTTPError, match="404"):
        hub.list("jo/t:main", trust_repo=True)
    assert sorted(os.listdir(github.hub)) == ["trusted_list"]  # no archive, no folder left


def test_a_silent_server_times_out_instead_of_hanging(tmp_path, monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections, never answers
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/w.bin"
    monkeypatch.setattr(hub, "_TIMEOUT", 0.3)
    try:
        with pytest.raises(TimeoutError, match=r"download_url_to_file: http://127.0.0.1:\d+/w"
                                                r"\.bin sent nothing for 0.3 seconds; the "
                                                r"server or the network is down"):
            hub.download_url_to_file(url, str(tmp_path / "w.bin"), progress=False)
    finally:
        listener.close()
    assert os.listdir(tmp_path) == []
