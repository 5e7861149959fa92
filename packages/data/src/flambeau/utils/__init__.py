"""flambeau.utils: PyTorch's ``torch.utils`` spellings of flambeau's own modules.

``flambeau.utils.data`` is :mod:`flambeau.data` under the name PyTorch code uses, so that
``torch.utils.data.DataLoader`` ports by changing only the import.

Examples
--------
>>> import flambeau
>>> flambeau.utils.data.DataLoader is flambeau.data.DataLoader
True
"""

# Other distributions may add modules under flambeau.utils, as they do under flambeau.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

from flambeau.utils import data  # noqa: E402

__all__ = ["data"]
