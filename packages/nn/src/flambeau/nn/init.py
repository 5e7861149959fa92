"""flambeau.nn.init: weight initialization (uniform_, kaiming_normal_, ...)."""

__all__ = []
