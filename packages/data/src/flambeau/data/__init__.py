"""flambeau.data: datasets, samplers and DataLoader (torch.utils.data semantics)."""

__all__ = []
