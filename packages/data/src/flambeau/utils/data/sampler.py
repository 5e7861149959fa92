"""``torch.utils.data.sampler``: the samplers of :mod:`flambeau.data`."""

from flambeau.data._sampler import (  # noqa: F401
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
