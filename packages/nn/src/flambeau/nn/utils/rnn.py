"""flambeau.nn.utils.rnn: packed sequences."""

__all__ = []
