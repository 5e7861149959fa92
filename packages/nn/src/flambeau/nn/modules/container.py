"""flambeau.nn modules: container."""

__all__ = []
