"""flambeau.nn.parallel: DistributedDataParallel comes from flambeau-distributed."""

__all__ = []
