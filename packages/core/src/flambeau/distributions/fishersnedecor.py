"""The module path ``torch.distributions.fishersnedecor``."""

from flambeau.distributions._gamma_derived import FisherSnedecor

__all__ = ["FisherSnedecor"]
