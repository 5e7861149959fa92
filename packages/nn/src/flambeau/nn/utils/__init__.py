"""flambeau.nn.utils: gradient clipping, parameter vectors, packed sequences.

Examples
--------
>>> from flambeau import nn
>>> nn.utils.parameters_to_vector(nn.Linear(2, 2).parameters()).numel()
6
"""

from flambeau.nn.utils import rnn  # noqa: F401
from flambeau.nn.utils.clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_
from flambeau.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "rnn", "vector_to_parameters"]
