"""flambeau.vision.utils: make_grid and save_image."""

__all__ = []
