"""``torch.utils.data.dataset``: the dataset classes of :mod:`flambeau.data`."""

from flambeau.data._dataset import (  # noqa: F401
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
