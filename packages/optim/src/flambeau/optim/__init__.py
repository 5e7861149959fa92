"""flambeau.optim: optimizers (SGD, Adam, ...) with PyTorch's update rules."""

__all__ = []
