"""Parameter: a Tensor that a Module registers as learnable."""

__all__ = []
