"""``flambeau.autograd.anomaly_mode``: where PyTorch code imports anomaly detection
(``from torch.autograd.anomaly_mode import detect_anomaly``). The names are those of
:mod:`flambeau.autograd`.

Examples
--------
>>> import flambeau
>>> from flambeau.autograd.anomaly_mode import detect_anomaly
>>> detect_anomaly is flambeau.autograd.detect_anomaly
True
"""

from flambeau.autograd._anomaly import detect_anomaly, set_detect_anomaly  # noqa: F401

__all__ = ["detect_anomaly", "set_detect_anomaly"]
