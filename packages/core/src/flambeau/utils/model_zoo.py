"""PyTorch's ``torch.utils.model_zoo``: :func:`load_url`, the older name of
:func:`flambeau.hub.load_state_dict_from_url`.

Examples
--------
>>> from flambeau import hub
>>> from flambeau.utils import model_zoo
>>> model_zoo.load_url is hub.load_state_dict_from_url
True
"""

from flambeau.hub import load_state_dict_from_url as load_url

__all__ = ["load_url"]
