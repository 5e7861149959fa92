"""flambeau.nn modules: flatten."""

__all__ = []
