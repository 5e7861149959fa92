"""flambeau.nn modules: conv."""

__all__ = []
