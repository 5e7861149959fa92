"""flambeau.data: datasets, samplers and DataLoader (torch.utils.data semantics).

Examples
--------
>>> import flambeau
>>> from flambeau.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(flambeau.arange(6)), batch_size=4)
>>> [b[0].tolist() for b in loader]
[[0, 1, 2, 3], [4, 5]]
"""

from flambeau.data._collate import default_collate, default_convert
from flambeau.data._dataloader import DataLoader
from flambeau.data._dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from flambeau.data._distributed import DistributedSampler
from flambeau.data._sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from flambeau.data._worker import WorkerInfo, get_worker_info

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
