"""The module path ``torch.distributions.one_hot_categorical``."""

from flambeau.distributions._categorical import OneHotCategorical, OneHotCategoricalStraightThrough

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]
