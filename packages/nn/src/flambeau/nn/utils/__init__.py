"""flambeau.nn.utils: gradient clipping, parameter vectors, packed sequences."""

from flambeau.nn.utils import rnn  # noqa: F401

__all__ = []
