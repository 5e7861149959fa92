"""Sphinx configuration for the flambeau documentation.

The API reference is generated at build time: for each module of ``API_MODULES`` that imports
in the build environment, a page under ``api/modules/`` lists every name of the module's
``__all__`` (and the names a plugin adds to it, ``PLUGIN_NAMES``) in autosummary tables, and
autosummary writes one page per name under ``api/generated/``. Modules of packages that are
not installed are left out with a log line. A page is also written for the changelog of each
package present in the repository, and the tutorials' code runs while they are read
(``docs/_ext/runcode.py``).
"""

from __future__ import annotations

import importlib
import inspect
import sys
import tomllib
from pathlib import Path

from sphinx.util import logging

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "flambeau"
author = "the flambeau developers"
copyright = "the flambeau developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_parser",  # the CHANGELOG.md files
    "runcode",  # docs/_ext/runcode.py: the tutorials' code runs during the build
]

html_theme = "alabaster"
html_static_path = ["_static"]
html_css_files = ["runcode.css"]
runcode_page_budget = 60.0  # CPU seconds of code per tutorial page; over it is a build warning
templates_path = ["_templates"]
exclude_patterns = ["_build"]
source_suffix = {".rst": "restructuredtext"}  # markdown only through the changelog includes

autosummary_generate = True
# {"aliases": {full name: primary full name}}, filled in by generate_api_pages.
autosummary_context: dict = {"aliases": {}}
autodoc_member_order = "bysource"
autodoc_typehints = "description"

napoleon_google_docstring = False
napoleon_numpy_docstring = True
# `Attributes` sections as :ivar: fields: .. attribute:: entries would collide with the
# members that autodoc documents on the same class.
napoleon_use_ivar = True

# Page (under api/modules/) -> module documented there, in reading order.
API_MODULES = {
    "flambeau": "flambeau",
    "linalg": "flambeau.linalg",
    "special": "flambeau.special",
    "sparse": "flambeau.sparse",
    "fft": "flambeau.fft",
    "signal": "flambeau.signal",
    "signal.windows": "flambeau.signal.windows",
    "autograd": "flambeau.autograd",
    "autograd.graph": "flambeau.autograd.graph",
    "autograd.functional": "flambeau.autograd.functional",
    "autograd.forward_ad": "flambeau.autograd.forward_ad",
    "autograd.profiler": "flambeau.autograd.profiler",
    "func": "flambeau.func",
    "backends": "flambeau.backends",
    "backends.cpu": "flambeau.backends.cpu",
    "backends.cuda": "flambeau.backends.cuda",
    "backends.cudnn": "flambeau.backends.cudnn",
    "backends.mps": "flambeau.backends.mps",
    "compiler": "flambeau.compiler",
    "jit": "flambeau.jit",
    "futures": "flambeau.futures",
    "version": "flambeau.version",
    "testing": "flambeau.testing",
    "amp": "flambeau.amp",
    "cuda": "flambeau.cuda",
    "cuda.amp": "flambeau.cuda.amp",
    "cuda.nvtx": "flambeau.cuda.nvtx",
    "xpu": "flambeau.xpu",
    "mps": "flambeau.mps",
    "mps.profiler": "flambeau.mps.profiler",
    "hub": "flambeau.hub",
    "multiprocessing": "flambeau.multiprocessing",
    "distributions": "flambeau.distributions",
    "distributions.constraints": "flambeau.distributions.constraints",
    "distributions.kl": "flambeau.distributions.kl",
    "distributions.transforms": "flambeau.distributions.transforms",
    "distributions.constraint_registry": "flambeau.distributions.constraint_registry",
    "cpu": "flambeau.cpu",
    "cpu.amp": "flambeau.cpu.amp",
    "accelerator": "flambeau.accelerator",
    "random": "flambeau.random",
    "return_types": "flambeau.return_types",
    "serialization": "flambeau.serialization",
    "storage": "flambeau.storage",
    "future": "flambeau.__future__",
    "types": "flambeau.types",
    "profiler": "flambeau.profiler",
    "nn": "flambeau.nn",
    "nn.functional": "flambeau.nn.functional",
    "nn._toplevel": "flambeau.nn._toplevel",  # flambeau.conv2d...: torch's top-level nn ops
    "nn.init": "flambeau.nn.init",
    "nn.utils": "flambeau.nn.utils",
    "nn.utils.rnn": "flambeau.nn.utils.rnn",
    "nn.utils.parametrize": "flambeau.nn.utils.parametrize",
    "nn.utils.parametrizations": "flambeau.nn.utils.parametrizations",
    "nn.utils.fusion": "flambeau.nn.utils.fusion",
    "nn.utils.stateless": "flambeau.nn.utils.stateless",
    "nn.utils.prune": "flambeau.nn.utils.prune",
    "optim": "flambeau.optim",
    "optim.lr_scheduler": "flambeau.optim.lr_scheduler",
    "optim.swa_utils": "flambeau.optim.swa_utils",
    "data": "flambeau.data",
    "utils": "flambeau.utils",
    "utils.benchmark": "flambeau.utils.benchmark",
    "utils.checkpoint": "flambeau.utils.checkpoint",
    "utils.dlpack": "flambeau.utils.dlpack",
    "utils.hooks": "flambeau.utils.hooks",
    "utils._pytree": "flambeau.utils._pytree",
    "utils.model_zoo": "flambeau.utils.model_zoo",
    "utils.weak": "flambeau.utils.weak",
    "utils.tensorboard": "flambeau.utils.tensorboard",
    "vision.datasets": "flambeau.vision.datasets",
    "vision.io": "flambeau.vision.io",
    "vision.transforms": "flambeau.vision.transforms",
    "vision.transforms.v2": "flambeau.vision.transforms.v2",
    "vision.transforms.v2.functional": "flambeau.vision.transforms.v2.functional",
    "vision.tv_tensors": "flambeau.vision.tv_tensors",
    "vision.models": "flambeau.vision.models",
    "vision.ops": "flambeau.vision.ops",
    "vision.utils": "flambeau.vision.utils",
    "distributed": "flambeau.distributed",
    "distributed.run": "flambeau.distributed.run",  # the launcher (flambeau-run)
}
# Module -> (plugin module, distribution) for names a plugin adds to a module of core at run
# time through the module's ``__getattr__`` (``flambeau.cuda.Stream`` is flambeau-cuda's): core's
# ``__all__`` cannot list them, so they come from the plugin module's ``__all__``. They are
# documented under the name users write, in a section of the module's page, when the plugin
# imports here (it needs no GPU and no CuPy).
PLUGIN_NAMES = {"flambeau.cuda": ("flambeau_cuda._api", "flambeau-cuda")}
API_DIR = DOCS / "api"
GENERATED = API_DIR / "generated"  # one page per public name (autosummary stubs)
MODULE_PAGES = API_DIR / "modules"  # one page per module of API_MODULES

logger = logging.getLogger(__name__)


def importable_modules() -> dict[str, object]:
    """The modules of ``API_MODULES`` that import here, by page name."""
    found = {}
    for page, name in API_MODULES.items():
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            logger.info(f"[api] {name} left out of the API reference: {exc}")
            continue
        if getattr(module, "__file__", None) is None:  # a bare namespace, no __init__.py yet
            logger.info(f"[api] {name} left out of the API reference: no __init__.py yet")
            continue
        found[page] = module
    return found


def public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        raise RuntimeError(f"{module.__name__} has no __all__: its public names are unknown")
    return list(names)


def own_names(module) -> list[str]:
    """``__all__`` minus the submodules that have a page of their own."""
    own_pages = set(API_MODULES.values())
    return [
        name
        for name in public_names(module)
        if not (
            inspect.ismodule(getattr(module, name, None))
            and getattr(module, name).__name__ in own_pages
        )
    ]


def plugin_names(module) -> list[str]:
    """The names ``module`` gets from its plugin (:data:`PLUGIN_NAMES`); [] without it."""
    if module.__name__ not in PLUGIN_NAMES:
        return []
    source = PLUGIN_NAMES[module.__name__][0]
    try:
        plugin = importlib.import_module(source)
    except ImportError as exc:
        logger.info(f"[api] {module.__name__}: {source}'s names left out: {exc}")
        return []
    own = set(public_names(module))
    return [name for name in public_names(plugin) if name not in own]


def documented_names(module) -> list[str]:
    """Every name with a page under ``module``: its own names, then its plugin's."""
    return own_names(module) + plugin_names(module)


def autosummary(names: list[str]) -> list[str]:
    return [".. autosummary::", "   :toctree: ../generated", "", *[f"   {n}" for n in names]]


def module_page(name: str, module) -> str:
    lines = [
        name,
        "=" * len(name),
        "",
        f".. automodule:: {name}",
        "   :no-members:",
        "",
        f".. currentmodule:: {name}",
        "",
    ]
    names = own_names(module)
    lines += autosummary(names) if names else ["This module has no public names yet."]
    extra = plugin_names(module)
    if extra:
        plugin, dist = PLUGIN_NAMES[name]
        title = f"Provided by {dist}"
        lines += ["", title, "-" * len(title), "",
                  f"These names exist when ``{dist}`` is installed: ``{name}`` forwards them",
                  f"to the plugin's ``{plugin}`` module. Without the plugin, using one raises",
                  "an error that says what to install.", "", *autosummary(extra)]
    return "\n".join(lines) + "\n"


def class_aliases(modules: dict[str, object]) -> dict[str, str]:
    """Classes exported by several documented modules: every other name -> the primary one.

    autodoc registers a class under its defining module's name too (``:canonical:``), so
    the same class documented twice is a duplicate description. The primary name is the one
    whose module is the longest prefix of the defining module (``flambeau.autograd.no_grad``
    for ``flambeau.autograd._grad_mode``); the others get a short page pointing to it.
    """
    by_class: dict[int, tuple[type, list[str]]] = {}
    for module in modules.values():
        for public in documented_names(module):
            obj = getattr(module, public, None)
            if inspect.isclass(obj):
                by_class.setdefault(id(obj), (obj, []))[1].append(f"{module.__name__}.{public}")
    aliases = {}
    for cls, names in by_class.values():
        if len(names) < 2:
            continue
        home = cls.__module__

        def score(full: str, home=home) -> int:
            module = full.rsplit(".", 1)[0]
            return len(module) if home == module or home.startswith(module + ".") else -1

        primary = max(names, key=score)
        aliases.update({name: primary for name in names if name != primary})
    return aliases


def write_if_changed(path: Path, text: str) -> None:
    # An unchanged mtime keeps incremental builds incremental.
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def generate_api_pages(app, config) -> None:
    MODULE_PAGES.mkdir(parents=True, exist_ok=True)
    modules = importable_modules()
    config.autosummary_context = {"aliases": class_aliases(modules)}
    keep = {f"{page}.rst" for page in modules} | {"toctree.inc"}
    for stale in MODULE_PAGES.iterdir():
        if stale.name not in keep:
            stale.unlink()
    for page, module in modules.items():
        write_if_changed(MODULE_PAGES / f"{page}.rst", module_page(API_MODULES[page], module))
    if modules:
        toc = [".. toctree::", "   :maxdepth: 1", ""] + [f"   modules/{p}" for p in modules]
    else:
        toc = ["No flambeau package is installed in this build, so no module is documented."]
    write_if_changed(MODULE_PAGES / "toctree.inc", "\n".join(toc) + "\n")


def generate_changelogs(app, config) -> None:
    """One page per package that has a CHANGELOG.md, and the toctree changelog.rst includes.

    The pages are ``generated/changelog_<folder>.rst``; the toctree titles them with the
    distribution's name from the package's ``pyproject.toml``.
    """
    out = DOCS / "generated"
    out.mkdir(exist_ok=True)
    entries = []
    for changelog in sorted(ROOT.glob("packages/*/CHANGELOG.md")):
        folder = changelog.parent
        # Sphinx resolves an include from the including document (docs/generated/...).
        rel = Path("..", "..", changelog.relative_to(ROOT)).as_posix()
        page = f"changelog_{folder.name}"
        write_if_changed(out / f"{page}.rst",
                         f".. include:: {rel}\n   :parser: myst_parser.sphinx_\n")
        entries.append(f"   {distribution_name(folder)} <generated/{page}>")
    for stale in out.glob("changelog_*.rst"):
        if f"<generated/{stale.stem}>" not in "".join(entries):
            stale.unlink()
    if entries:
        text = "\n".join([".. toctree::", "   :maxdepth: 1", "", *entries])
    else:
        text = "No package has a changelog yet."
    write_if_changed(out / "changelogs.inc", text + "\n")


def distribution_name(folder: Path) -> str:
    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return folder.name
    return data.get("project", {}).get("name", folder.name)


def check_own_references(app, env, node, contnode):
    """Warn about unresolved Python references in the hand-written pages.

    Sphinx only reports unresolved ``:class:``/``:func:`` references in nitpicky mode,
    which would also flag every type named in the docstrings; the tutorials, how-tos and
    the other hand-written pages link to the API reference and must not link to nothing.
    """
    if node.get("refdomain") != "py" or node.get("refdoc", "").startswith("api/"):
        return None
    logger.warning(f"unresolved reference {node.get('reftarget')!r}", location=node)
    return None


#: private methods PyTorch documents for subclasses to override or call (nn.Module's
#: state-dict protocol): their pages show them as they show public ones
DOCUMENTED_PRIVATE = {"_load_from_state_dict", "_save_to_state_dict",
                      "_register_state_dict_hook", "_register_load_state_dict_pre_hook"}


def show_documented_private(app, what, name, obj, skip, options):
    if name in DOCUMENTED_PRIVATE and what == "class":
        return False
    return None


def setup(app):
    # config-inited comes before Sphinx lists the source files, which autosummary then reads.
    app.connect("config-inited", generate_api_pages)
    app.connect("config-inited", generate_changelogs)
    app.connect("missing-reference", check_own_references)
    app.connect("autodoc-skip-member", show_documented_private)
    return {"parallel_read_safe": True}
