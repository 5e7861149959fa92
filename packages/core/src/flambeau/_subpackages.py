"""``flambeau`` is one namespace over several distributions; say which one to install.

A bare ``import flambeau`` also reaches them as attributes (``flambeau.nn.Linear``,
``flambeau.utils.data.DataLoader``), as ``import torch`` does, by importing the subpackage on
first access: core itself never imports them.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: subpackage -> distribution that provides it
PROVIDERS = {
    "flambeau.nn": "flambeau-nn",
    "flambeau.optim": "flambeau-optim",
    "flambeau.data": "flambeau-data",
    "flambeau.vision": "flambeau-vision",
    "flambeau.distributed": "flambeau-distributed",
    # core ships flambeau.utils (checkpoint, hooks); flambeau-data adds flambeau.utils.data
    "flambeau.utils": "flambeau-data",
}

#: core's own subpackages that ``import flambeau`` leaves for the first access (as
#: ``torch.distributions`` and ``torch.testing`` after ``import torch``): most programs never
#: use them, and importing them up front would slow down every ``import flambeau``
CORE_ON_ACCESS = frozenset({"__future__", "distributions", "hub", "mps", "multiprocessing",
                            "profiler", "signal", "storage", "testing", "types", "xpu"})

#: names of ``flambeau`` itself that a module of another distribution provides, as with
#: ``torch.conv2d``: module -> the names to look up there (its ``__all__``: flambeau-nn's
#: tests check that the two agree). Reached on first access, like the subpackages.
TOPLEVEL = {
    "flambeau.nn._toplevel": frozenset("""
        adaptive_avg_pool1d adaptive_max_pool1d affine_grid_generator alpha_dropout
        alpha_dropout_ avg_pool1d batch_norm batch_norm_backward_elemt
        batch_norm_backward_reduce batch_norm_elemt batch_norm_gather_stats
        batch_norm_gather_stats_with_counts batch_norm_stats batch_norm_update_stats bilinear
        binary_cross_entropy_with_logits celu celu_ channel_shuffle constant_pad_nd conv1d
        conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d conv_transpose3d convolution
        cosine_embedding_loss cosine_similarity ctc_loss dropout dropout_ embedding
        embedding_bag embedding_renorm_ feature_alpha_dropout feature_alpha_dropout_
        feature_dropout feature_dropout_ grid_sampler grid_sampler_2d grid_sampler_3d group_norm
        gru gru_cell hinge_embedding_loss instance_norm kl_div layer_norm lstm lstm_cell
        margin_ranking_loss max_pool1d max_pool1d_with_indices max_pool2d max_pool3d
        native_batch_norm native_channel_shuffle native_dropout native_group_norm
        native_layer_norm norm_except_dim pairwise_distance pdist pixel_shuffle pixel_unshuffle
        poisson_nll_loss rms_norm rnn_relu rnn_relu_cell rnn_tanh rnn_tanh_cell rrelu rrelu_
        selu selu_ threshold threshold_ triplet_margin_loss
    """.split()),
}


class MissingSubpackageFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: reached only when no installed distribution has the module."""

    def find_spec(self, fullname, path, target=None):
        top = ".".join(fullname.split(".")[:2])
        dist = PROVIDERS.get(top)
        if dist is None or top in sys.modules:
            return None  # a missing module inside an installed subpackage: the usual error
        if _probing():
            return None  # importlib.util.find_spec asks whether it is installed: it is not
        raise ModuleNotFoundError(
            f"{top} is provided by {dist}: pip install {dist}", name=fullname
        )


_UTIL_FIND_SPEC = importlib.util.find_spec.__code__


def _probing() -> bool:
    """Whether ``importlib.util.find_spec`` is on the stack just above the finder.

    Code that checks for an optional package with ``find_spec(...) is None`` must get None,
    not the error meant for an ``import`` statement. Both reach the finder through
    ``importlib._bootstrap._find_spec``; only the caller a few frames up tells them apart.
    """
    frame = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            return False
        if frame.f_code is _UTIL_FIND_SPEC:
            return True
        frame = frame.f_back
    return False


def install() -> None:
    if not any(isinstance(f, MissingSubpackageFinder) for f in sys.meta_path):
        sys.meta_path.append(MissingSubpackageFinder())


def load(name: str):
    """``flambeau.<name>`` for a subpackage of another distribution, imported now.

    Raises AttributeError (so ``hasattr`` answers False) naming the distribution to install
    when it is missing; an installed subpackage that fails to import raises its own error.
    """
    full = f"flambeau.{name}"
    if name in CORE_ON_ACCESS:
        return importlib.import_module(full)
    if full not in PROVIDERS:
        return _load_toplevel(name)
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as missing:
        if missing.name != full:
            raise
        raise AttributeError(f"module 'flambeau' has no attribute '{name}': {missing}") from None


def _load_toplevel(name: str):
    """``flambeau.<name>`` for a function of ``TOPLEVEL`` (``flambeau.conv2d``), imported now.

    The function is then stored in ``flambeau``'s namespace, so later accesses are plain
    attribute reads. A missing distribution is an AttributeError naming it, as in ``load``.
    """
    module_name = next((m for m, names in TOPLEVEL.items() if name in names), None)
    if module_name is None:
        raise AttributeError(f"module 'flambeau' has no attribute '{name}'")
    top = ".".join(module_name.split(".")[:2])
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as missing:
        if missing.name not in (top, module_name):
            raise
        dist = PROVIDERS.get(top, top)
        raise AttributeError(f"module 'flambeau' has no attribute '{name}': flambeau.{name} is "
                             f"provided by {dist}: pip install {dist}") from None
    value = getattr(module, name)
    setattr(sys.modules["flambeau"], name, value)
    return value
