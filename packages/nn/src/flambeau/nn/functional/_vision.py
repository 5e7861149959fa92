"""flambeau.nn.functional: vision."""

__all__ = []
