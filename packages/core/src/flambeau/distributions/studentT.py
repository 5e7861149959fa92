"""The module path ``torch.distributions.studentT``."""

from flambeau.distributions._gamma_family import StudentT

__all__ = ["StudentT"]
