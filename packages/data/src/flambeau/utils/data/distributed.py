"""``torch.utils.data.distributed``: DistributedSampler from :mod:`flambeau.data`."""

from flambeau.data._distributed import DistributedSampler  # noqa: F401
