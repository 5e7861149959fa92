"""flambeau.vision.datasets."""

__all__ = []
