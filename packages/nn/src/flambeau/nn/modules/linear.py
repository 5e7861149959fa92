"""flambeau.nn modules: linear."""

__all__ = []
