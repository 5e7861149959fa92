"""``torch.utils.data.dataloader``: DataLoader and its helpers from :mod:`flambeau.data`."""

from flambeau.data._collate import default_collate, default_convert  # noqa: F401
from flambeau.data._dataloader import DataLoader  # noqa: F401
from flambeau.data._worker import get_worker_info  # noqa: F401
