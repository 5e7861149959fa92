"""nox sessions for the flambeau monorepo.

Run ``python -m nox`` for the default suite, ``nox -s bench`` for benchmarks and
``nox -t gpu`` on a machine with a CUDA device. Packages are installed from their folders
in this repository; a package whose folder has no ``pyproject.toml`` yet is skipped with a
message, so the file works while packages land one by one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "uv|virtualenv"
# docs before the test sessions, so that CI's output ends on test results, not on Sphinx.
nox.options.sessions = ["lint", "docs", "tests", "testdev", "minimal", "plugins", "distributed",
                         "parity"]
nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = False
nox.options.reuse_venv = "no"

ROOT = Path(__file__).parent
TORCH = "torch==2.13.0"
RUFF = "ruff==0.17.6"  # pinned so that a ruff release cannot fail the build overnight
TEST_EXTRAS = ("test", "digits")  # installed for the packages under test that declare them
TEST_FALLBACK = ("pytest", "hypothesis")  # for a package that declares no `test` extra
# Not -q: at the default verbosity each run closes on pytest's "=== N passed ... ===" line,
# which CI's checker reads; with -q the only "===" lines left are headers such as
# "=== warnings summary ===", which read as a run that executed no test.
PYTEST = ("-p", "no:cacheprovider")
PLUGIN_TESTS = "packages/core/tests/plugins"  # need the test plugin: `plugins` session only
TEST_PLUGIN = f"{PLUGIN_TESTS}/flambeau-testplugin"
NOT_PLUGIN_TESTS = f"--ignore={PLUGIN_TESTS}"
# Every pytest run leaves a JUnit report here; .ci/run adds them up into one closing line.
REPORTS = ROOT / ".nox" / "reports"
# FLAMBEAU_TEST_RERUNS=N (set by .ci/run) runs a failed test up to N more times, so that one
# stall of a shared CI machine cannot fail the build; the tally names every test that needed
# it, so that a flaky test is seen and fixed rather than hidden.
RERUNS = int(os.environ.get("FLAMBEAU_TEST_RERUNS", "0") or 0)
RERUN_PLUGIN = "pytest-rerunfailures==16.7"
# FLAMBEAU_TEST_TIMEOUT=S (set by .ci/run) fails a test that runs longer than S seconds, with
# its stack, instead of letting one hang use up CI's time without saying where it hung.
TIMEOUT = int(os.environ.get("FLAMBEAU_TEST_TIMEOUT", "0") or 0)
TIMEOUT_PLUGIN = "pytest-timeout==2.4.0"


@dataclass(frozen=True)
class Package:
    folder: str
    needs: tuple[str, ...] = ()

    @property
    def pyproject(self) -> Path:
        return ROOT / self.folder / "pyproject.toml"

    @property
    def present(self) -> bool:
        return self.pyproject.is_file()

    def declared_extras(self) -> set[str]:
        data = tomllib.loads(self.pyproject.read_text(encoding="utf-8"))
        return set(data.get("project", {}).get("optional-dependencies", {}))


# In dependency order: a package's `needs` come before it.
PACKAGES = {
    "core": Package("packages/core"),
    "nn": Package("packages/nn", needs=("core",)),
    "optim": Package("packages/optim", needs=("core",)),
    "data": Package("packages/data", needs=("core",)),
    "vision": Package("packages/vision", needs=("core", "nn", "optim", "data")),
    "cuda": Package("packages/cuda-backend", needs=("core",)),
    "distributed": Package("packages/distributed", needs=("core", "nn")),
}
TESTED = ["core", "nn", "optim", "data", "vision", "cuda"]  # distributed has its own session


def with_needs(name: str) -> list[str]:
    """``name`` and every in-repo package it needs, dependencies first."""
    order: list[str] = []
    for need in PACKAGES[name].needs:
        order += [n for n in with_needs(need) if n not in order]
    return order + [name]


def present_packages() -> list[str]:
    return [name for name, pkg in PACKAGES.items() if pkg.present]


def require(session: nox.Session, names: list[str]) -> None:
    """Skip the session unless every named package has landed."""
    missing = [PACKAGES[n].folder for n in names if not PACKAGES[n].present]
    if missing:
        session.skip(f"no pyproject.toml yet in {', '.join(missing)}")


def require_tests(session: nox.Session, tests_dir: Path) -> None:
    """Skip, rather than fail with pytest's "no tests ran", while a package has no tests."""
    if not any(tests_dir.rglob("test_*.py")):
        session.skip(f"no test_*.py files yet under {tests_dir.relative_to(ROOT)}")


def spec(name: str, extras: tuple[str, ...] = ()) -> str:
    pkg = PACKAGES[name]
    wanted = [e for e in extras if e in pkg.declared_extras()]
    return f"{pkg.folder}[{','.join(wanted)}]" if wanted else pkg.folder


def install(
    session: nox.Session, names: list[str], *, extras: tuple[str, ...] = (), also=()
) -> None:
    """Install packages ``names`` and their in-repo dependencies as editable installs.

    ``extras`` apply to the packages in ``names`` when they declare them; pytest and
    hypothesis are added when one of them was asked for a ``test`` extra it lacks. Everything
    goes in one resolver call so that in-repo requirements resolve to the local folders.
    """
    every: list[str] = []
    for name in names:
        every += [n for n in with_needs(name) if n not in every]
    require(session, every)
    args: list[str] = []
    for n in every:
        args += ["-e", spec(n, extras if n in names else ())]
    if "test" in extras and any("test" not in PACKAGES[n].declared_extras() for n in names):
        args += TEST_FALLBACK
    session.install(*args, *also)


def run_pytest(session: nox.Session, *args: str, **kwargs) -> None:
    """``python -m pytest ARGS`` in the session, writing a JUnit report under REPORTS."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / f"{re.sub(r'[^A-Za-z0-9]+', '-', session.name)}-{uuid.uuid4().hex[:8]}.xml"
    plugins, options = [], []
    if RERUNS:
        plugins.append(RERUN_PLUGIN)
        options += ["--reruns", str(RERUNS), "--reruns-delay", "1"]
    if TIMEOUT:
        plugins.append(TIMEOUT_PLUGIN)
        options += ["--timeout", str(TIMEOUT)]
    if plugins:
        session.install(*plugins)
    session.run("python", "-m", "pytest", *args, *PYTEST, *options, f"--junitxml={report}",
                **kwargs)


def fresh_copy(session: nox.Session, folder: str) -> str:
    """Copy a source tree, with fresh timestamps, before a non-editable install.

    uv reuses a wheel built from a local folder while the folder's pyproject.toml keeps its
    timestamp, whatever happened to the sources; a fresh copy forces a new build and keeps
    stray build/ folders and caches out of it.
    """
    dest = Path(session.create_tmp()) / "src" / Path(folder).name
    shutil.rmtree(dest, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", ".*cache*")
    shutil.copytree(ROOT / folder, dest, ignore=ignore, copy_function=shutil.copy)
    return str(dest)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check over the whole repository, and the tests of CI's own scripts."""
    session.install(RUFF, "pytest")
    session.run("ruff", "check", ".")
    run_pytest(session, ".ci/tests")


@nox.session
@nox.parametrize("package", [nox.param(name, id=name) for name in TESTED])
def tests(session: nox.Session, package: str) -> None:
    """One package's tests against editable installs of it and what it needs."""
    require(session, [package])
    require_tests(session, ROOT / PACKAGES[package].folder / "tests")
    install(session, [package], extras=TEST_EXTRAS)
    tests_dir = f"{PACKAGES[package].folder}/tests"
    run_pytest(session, tests_dir, NOT_PLUGIN_TESTS, *session.posargs)


@nox.session
def testdev(session: nox.Session) -> None:
    """The suites of every package on the test plugin's ``testdev`` device: a NumPy backend
    whose memory, like a GPU's, is not host memory, made the default device of the tests
    (``FLAMBEAU_TEST_DEVICE``). A rehearsal of ``gpu_tests`` in every run: a test or a code
    path that takes a device tensor for a host array fails here, not first on a GPU.

    The device is CuPy-strict (``FLAMBEAU_TESTDEV_STRICT=1``): its arrays refuse host arrays
    as CuPy's do (``TypeError: Unsupported type <class 'numpy.ndarray'>`` for a host array in
    a device op, CuPy's ``fill`` error for ``device[:] = host``), so library code that calls
    NumPy on device data or mixes host arrays into device ops fails here too."""
    names = [n for n in TESTED if PACKAGES[n].present and n != "cuda"]
    require(session, names)
    install(session, names, extras=TEST_EXTRAS, also=[fresh_copy(session, TEST_PLUGIN)])
    for name in names:
        tests_dir = ROOT / PACKAGES[name].folder / "tests"
        if any(tests_dir.rglob("test_*.py")):
            run_pytest(session, str(tests_dir.relative_to(ROOT)), NOT_PLUGIN_TESTS,
                       *session.posargs, env={"FLAMBEAU_TEST_DEVICE": "testdev",
                                              "FLAMBEAU_TESTDEV_STRICT": "1"})


@nox.session
def minimal(session: nox.Session) -> None:
    """flambeau-core alone, installed from a built wheel, runs its own tests.

    The tests run from a copy outside the source tree, so `import flambeau` can only find
    the installed wheel.
    """
    core = PACKAGES["core"]
    require(session, ["core"])
    require_tests(session, ROOT / core.folder / "tests")
    extras = "[test]" if "test" in core.declared_extras() else ""
    session.install(f"{fresh_copy(session, core.folder)}{extras}")
    if not extras:
        session.install(*TEST_FALLBACK)

    work = Path(session.create_tmp()) / "minimal"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copytree(ROOT / core.folder / "tests", work / "tests")
    shutil.copy2(core.pyproject, work / "pyproject.toml")  # pytest config: markers, warnings
    with session.chdir(work):
        session.run(
            "python",
            "-c",
            "import flambeau, sys; f = flambeau.__file__; print('flambeau from', f); "
            "sys.exit('flambeau imported from the source tree' if 'site-packages' not in f "
            "else 0)",
        )
        run_pytest(session, "tests", "--ignore=tests/plugins", *session.posargs)


@nox.session
def plugins(session: nox.Session) -> None:
    """Third-party backend registration: the test plugin installed as a real distribution."""
    require(session, ["core"])
    if not (ROOT / TEST_PLUGIN / "pyproject.toml").is_file():
        session.skip(f"no pyproject.toml yet in {TEST_PLUGIN}")
    require_tests(session, ROOT / PLUGIN_TESTS)
    install(session, ["core"], extras=("test",), also=[fresh_copy(session, TEST_PLUGIN)])
    run_pytest(session, PLUGIN_TESTS, *session.posargs)


@nox.session(venv_backend="venv")
def parity(session: nox.Session) -> None:
    """Tests marked `parity`: values and gradients compared with PyTorch.

    Plain venv + pip: torch==2.13.0 comes from a local wheel that pip's configuration
    finds and uv does not. Each package runs on its own so that its pytest configuration
    (markers, import mode) applies; exit code 5 (nothing collected) is not a failure.
    vision's tests/programs (whole PyTorch programs run on torch and, ported, on flambeau;
    seconds) are among them: they need torch, and vision needs every package they use.
    """
    names = [n for n in present_packages() if n in TESTED]
    if not names:
        session.skip("no package has landed yet")
    install(session, names, extras=TEST_EXTRAS, also=[TORCH])
    for name in names:
        tests_dir = f"{PACKAGES[name].folder}/tests"
        if mentions_parity(ROOT / tests_dir):
            args = [tests_dir, NOT_PLUGIN_TESTS, "-m", "parity", *session.posargs]
            run_pytest(session, *args, success_codes=[0, 5])
        else:  # a run that selects nothing ends CI's log on "N deselected", not on results
            session.log(f"{name}: no test marked parity")


def mentions_parity(tests_dir: Path) -> bool:
    """Whether any test file under ``tests_dir`` can mark a test ``parity``."""
    return any("parity" in f.read_text() for f in tests_dir.rglob("*.py"))


@nox.session
def docs(session: nox.Session) -> None:
    """Sphinx site with -W, then every public name checked for a page and an example."""
    # cuda too, without its CuPy extras (cuda12, cuda13): flambeau_cuda imports without CuPy
    # or a GPU, and the names it adds to flambeau.cuda (Stream, synchronize...) need its
    # docstrings for their pages.
    names = present_packages()
    if names:
        install(session, names, extras=("digits",))  # the tutorials train on the digits
    session.install("sphinx", "myst-parser")  # numpydoc docstrings are read by napoleon
    for stale in ("_build", "generated", "api/generated", "api/modules"):  # a clean build
        shutil.rmtree(ROOT / "docs" / stale, ignore_errors=True)
    build = ["-W", "--keep-going", "-b", "html", "docs", "docs/_build/html"]
    session.run("sphinx-build", *build, *session.posargs)
    session.run("python", "docs/check_api.py")


# examples/ scripts with tiny settings: each must run end to end, not train well.
EXAMPLE_RUNS = [
    ("mlp_regression.py", "--epochs", "5", "--limit", "64"),
    ("cnn_digits.py", "--epochs", "1", "--limit", "64", "--workers", "2"),
    ("lstm_classifier.py", "--epochs", "1", "--limit", "64"),
    ("char_lm.py", "--steps", "3", "--hidden", "16", "--sample", "20"),
    ("transformer_classifier.py", "--epochs", "1", "--limit", "64"),
    ("gan_digits.py", "--epochs", "1", "--limit", "128"),
    ("finetune.py", "--pretrain-epochs", "1", "--epochs", "1", "--limit", "128"),
    ("amp_training.py", "--steps", "3", "--limit", "64"),
    ("custom_backend.py",),
]


@nox.session
def examples(session: nox.Session) -> None:
    """Smoke test of every examples/ script with a tiny setting (ddp_train.py on 2 ranks)."""
    require(session, ["vision", "distributed"])
    install(session, ["vision", "distributed"], extras=("digits",))
    out = Path(session.create_tmp()) / "examples"
    for script, *args in EXAMPLE_RUNS:
        extra = ["--out", str(out / script)] if script in ("cnn_digits.py", "gan_digits.py") else []
        session.run("python", f"examples/{script}", *args, *extra)
    ddp = ["python", "examples/ddp_train.py", "--epochs", "1", "--limit", "128"]
    session.run(*ddp)  # a world of one, without a launcher
    session.run("mpiexec", "-n", "2", *ddp)


@nox.session(venv_backend="venv")
def bench(session: nox.Session) -> None:
    """Benchmarks side by side with PyTorch (`nox -s bench -- --only NAME`)."""
    names = [n for n in present_packages() if n != "cuda"]
    if names:
        install(session, names, also=[TORCH])
    else:
        session.install(TORCH)
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def distributed(session: nox.Session) -> None:
    """flambeau.distributed: single-process tests, then its 2-rank suite on "mpi" and "gloo".

    ``tests/test_launch.py`` starts ``mpiexec -n 2 python -m pytest -m mpi`` itself (the
    mpiexec of the mpich wheel installed here), and jobs whose ranks fail on purpose, with
    timeouts; ``tests/test_run.py`` runs the same suite under ``python -m
    flambeau.distributed.run --nproc-per-node 2`` on "gloo", and 3-rank and two-node jobs. The
    NCCL tests skip with the reason when CuPy or a GPU is missing.
    """
    require(session, ["distributed"])
    require_tests(session, ROOT / PACKAGES["distributed"].folder / "tests")
    install(session, ["distributed"], extras=("test",))
    tests_dir = f"{PACKAGES['distributed'].folder}/tests"
    run_pytest(session, tests_dir, *session.posargs)


@nox.session(tags=["gpu"])
def distributed_gpu(session: nox.Session) -> None:
    """flambeau.distributed's NCCL tests on a machine with a CUDA device (world size 1)."""
    if not has_cuda_device():
        session.skip("skipped: no CUDA device")
    require(session, ["distributed", "cuda"])
    install(session, ["distributed", "cuda"], extras=("test", "cuda13"))
    run_pytest(session, "packages/distributed/tests/test_nccl.py")


def has_cuda_device() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        return subprocess.run(["nvidia-smi"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@nox.session(tags=["gpu"])
def gpu_tests(session: nox.Session) -> None:
    """The package test suites with CUDA tensors (flambeau-cuda on CuPy for CUDA 13)."""
    if not has_cuda_device():
        session.skip("skipped: no CUDA device")
    require(session, ["cuda"])
    names = [n for n in TESTED if PACKAGES[n].present and n != "cuda"]
    install(session, [*names, "cuda"], extras=(*TEST_EXTRAS, "cuda13"))
    env = {"FLAMBEAU_TEST_DEVICE": "cuda"}
    folders = [PACKAGES[n].folder for n in [*names, "cuda"]]
    for tests_dir in (f"{folder}/tests" for folder in folders):
        if (ROOT / tests_dir).is_dir():
            run_pytest(session, tests_dir, NOT_PLUGIN_TESTS, *session.posargs, env=env)
