"""flambeau-nn's part of :mod:`flambeau.func`: ``flambeau.func.replace_all_batch_norm_modules_``
is this module's function (flambeau.func is in flambeau-core, which does not know modules).

Examples
--------
>>> import flambeau
>>> from flambeau.nn._func import replace_all_batch_norm_modules_
>>> flambeau.func.replace_all_batch_norm_modules_ is replace_all_batch_norm_modules_
True
"""

from __future__ import annotations

from flambeau.nn.modules.normalization import _BatchNorm

__all__ = ["replace_all_batch_norm_modules_"]


def replace_all_batch_norm_modules_(root):
    """Make every batch norm module in ``root`` normalize with the batch's statistics only:
    ``running_mean``, ``running_var`` and ``num_batches_tracked`` become None and
    ``track_running_stats`` False (in place), so ``vmap`` over a model does not write the
    running statistics of one sample into the others'. Returns ``root``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import replace_all_batch_norm_modules_
    >>> net = flambeau.nn.Sequential(flambeau.nn.Linear(2, 3), flambeau.nn.BatchNorm1d(3))
    >>> bn = replace_all_batch_norm_modules_(net)[1]
    >>> bn.running_mean is None, bn.track_running_stats
    (True, False)
    """
    for module in root.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean = module.running_var = module.num_batches_tracked = None
            module.track_running_stats = False
    return root
