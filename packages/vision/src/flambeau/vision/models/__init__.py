"""flambeau.vision.models."""

__all__ = []
