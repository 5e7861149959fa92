"""flambeau.vision.transforms."""

__all__ = []
