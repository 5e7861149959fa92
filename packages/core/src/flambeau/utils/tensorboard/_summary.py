"""Summary values (scalars, histograms, images, text, hparams) as :mod:`._proto` dicts."""

from __future__ import annotations

import io
import math

import numpy as np

from flambeau.utils.tensorboard import _proto

_DT_FLOAT, _DT_DOUBLE, _DT_STRING = 1, 2, 7


def to_numpy(value, what):
    """A Tensor, array, sequence or number as a NumPy array (a Tensor detached, on the CPU)."""
    from flambeau._tensor import Tensor

    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except Exception:  # noqa: BLE001 - name the argument whatever NumPy says
        raise TypeError(f"{what}: expected a Tensor, a NumPy array or numbers, got "
                        f"{type(value).__name__}") from None


def scalar(caller, tag, value, new_style=False, double_precision=False):
    arr = to_numpy(value, caller)
    if arr.size != 1:
        raise ValueError(f"{caller}: scalar_value must hold one number, got shape "
                         f"{tuple(arr.shape)}")
    number = float(arr.reshape(()))
    if not new_style:
        return {"tag": tag, "simple_value": number}
    tensor = ({"dtype": _DT_DOUBLE, "double_val": [number]} if double_precision
              else {"dtype": _DT_FLOAT, "float_val": [number]})
    return {"tag": tag, "tensor": tensor, "metadata": _plugin("scalars")}


def _plugin(name, content=b""):
    return {"plugin_data": {"plugin_name": name, "content": content}}


def _tensorflow_bins():
    """TensorFlow's default histogram edges: +-1e-12 * 1.1**k up to 1e20, and 0."""
    positive = []
    v = 1e-12
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    return [-x for x in reversed(positive)] + [0.0] + positive


_TF_BINS = None


def histogram(caller, tag, values, bins="tensorflow", max_bins=None):
    global _TF_BINS
    values = to_numpy(values, caller).astype(np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError(f"{caller}: values is empty; a histogram needs at least one value")
    if not np.isfinite(values).all():
        raise ValueError(f"{caller}: values holds NaN or infinity")
    if isinstance(bins, str) and bins == "tensorflow":
        if _TF_BINS is None:
            _TF_BINS = np.array(_tensorflow_bins())
        bins = _TF_BINS
    counts, edges = np.histogram(values, bins=bins)
    if max_bins is not None and counts.size > max_bins:
        group = counts.size // max_bins
        pad = -counts.size % group
        counts = np.concatenate([counts, np.zeros(pad, counts.dtype)]).reshape(-1, group).sum(1)
        edges = np.concatenate([edges[:-1:group], edges[-1:]])
    # keep the buckets from the first non-empty one to the last, after an empty bucket that
    # ends where they start (TensorBoard reads each limit as its bucket's right edge)
    nonzero = np.flatnonzero(counts)
    first, last = int(nonzero[0]), int(nonzero[-1])
    limits = edges[first:last + 2]
    counts = np.concatenate([[0], counts[first:last + 1]])
    return histogram_raw(tag, values.min(), values.max(), values.size, values.sum(),
                         values.dot(values), limits, counts)


def histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):  # noqa: A002
    if len(bucket_limits) != len(bucket_counts):
        raise ValueError(f"add_histogram_raw: len(bucket_limits) ({len(bucket_limits)}) != "
                         f"len(bucket_counts) ({len(bucket_counts)})")
    return {"tag": tag, "histo": {
        "min": float(min), "max": float(max), "num": float(num), "sum": float(sum),
        "sum_squares": float(sum_squares), "bucket_limit": [float(x) for x in bucket_limits],
        "bucket": [float(x) for x in bucket_counts]}}


def _check_format(caller, arr, dataformats):
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt) or not set(fmt) <= set("NCHW"):
        raise ValueError(f"{caller}: dataformats must be letters of 'NCHW', each once, got "
                         f"{dataformats!r}")
    if len(fmt) != arr.ndim:
        raise ValueError(f"{caller}: dataformats {dataformats!r} has {len(fmt)} dimensions "
                         f"but the image has {arr.ndim} (shape {tuple(arr.shape)})")
    return fmt


def _grid(nchw):
    """Images ``(N, C, H, W)`` tiled row by row, 8 per row, into one ``(C, H', W')``."""
    n, c, h, w = nchw.shape
    cols = min(n, 8)
    rows = math.ceil(n / cols)
    canvas = np.zeros((c, h * rows, w * cols), dtype=nchw.dtype)
    for i in range(n):  # one copy per image, not per pixel
        r, q = divmod(i, cols)
        canvas[:, r * h:(r + 1) * h, q * w:(q + 1) * w] = nchw[i]
    return canvas


def to_hwc(caller, img, dataformats):
    """``img`` in layout ``dataformats`` as one ``(H, W, C)`` image with 3 or 4 channels."""
    arr = to_numpy(img, caller)
    fmt = _check_format(caller, arr, dataformats)
    if len(fmt) == 4:
        if "C" not in fmt or "N" not in fmt:
            raise ValueError(f"{caller}: a 4-d dataformats needs N and C, got {dataformats!r}")
        arr = arr.transpose([fmt.index(d) for d in "NCHW"])
        if arr.shape[1] == 1:
            arr = np.repeat(arr, 3, axis=1)
        return _grid(arr).transpose(1, 2, 0)
    if fmt not in ("CHW", "HWC", "HW", "WH") and set(fmt) != set("CHW"):
        raise ValueError(f"{caller}: a {len(fmt)}-d dataformats needs H and W (and C), got "
                         f"{dataformats!r}")
    if len(fmt) == 2:
        arr = arr.transpose([fmt.index(d) for d in "HW"])[:, :, None]
    else:
        arr = arr.transpose([fmt.index(d) for d in "HWC"])
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return arr


def image(caller, tag, img, dataformats):
    hwc = to_hwc(caller, img, dataformats)
    if hwc.shape[2] not in (3, 4):
        raise ValueError(f"{caller}: an image needs 1, 3 or 4 channels, got {hwc.shape[2]}")
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{caller} encodes images as PNG with Pillow, which is not "
                          "installed: pip install Pillow") from None
    # uint8 images as they are; any other dtype holds [0, 1] values, as in PyTorch
    scale = 1 if hwc.dtype == np.uint8 else 255
    pixels = (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    h, w, c = pixels.shape
    return {"tag": tag, "image": {"height": h, "width": w, "colorspace": c,
                                  "encoded_image_string": buf.getvalue()}}


def figure_to_chw(figure, close):
    """A matplotlib figure as a ``(3, H, W)`` uint8 image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    w, h = canvas.get_width_height()
    rgba = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(h, w, 4)
    if close:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return np.ascontiguousarray(rgba[:, :, :3].transpose(2, 0, 1))


def text(tag, text_string):
    return {"tag": tag + "/text_summary", "metadata": _plugin("text"),
            "tensor": {"dtype": _DT_STRING, "tensor_shape": {"dim": [{"size": 1}]},
                       "string_val": [text_string.encode("utf-8")]}}


_FLOAT64, _STRING, _BOOL = 3, 1, 2  # hparams DataType
_STATUS_SUCCESS = 1


def _hparam_value(caller, name, v):
    """``(protobuf Value dict, DataType)`` of one hyperparameter."""
    from flambeau._tensor import Tensor

    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise ValueError(f"{caller}: hyperparameter {name!r} is a Tensor of shape "
                             f"{tuple(v.shape)}; only one-element Tensors can be logged")
        v = v.item()
    # bool before numbers? PyTorch logs True as the number 1, so numbers come first
    if isinstance(v, (int, float)):
        return {"number_value": float(v)}, _FLOAT64
    if isinstance(v, str):
        return {"string_value": v}, _STRING
    raise ValueError(f"{caller}: hyperparameter {name!r} is a {type(v).__name__}; values "
                     "must be int, float, str, bool or a one-element Tensor")


def hparams(caller, hparam_dict, metric_dict, hparam_domain_discrete=None):
    """The three summaries (experiment, session start, session end) of ``add_hparams``."""
    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError(f"{caller}: hparam_dict and metric_dict must be dicts, got "
                        f"{type(hparam_dict).__name__} and {type(metric_dict).__name__}")
    domains = hparam_domain_discrete or {}
    infos, entries = [], []
    for name, v in hparam_dict.items():
        value, dtype = _hparam_value(caller, name, v)
        entries.append({"key": name, "value": value})
        info = {"name": name, "type": dtype}
        if name in domains:
            info["domain_discrete"] = {"values": [_hparam_value(caller, name, d)[0]
                                                  for d in domains[name]]}
        infos.append(info)
    experiment = {"hparam_infos": infos,
                  "metric_infos": [{"name": {"tag": k}} for k in metric_dict]}

    def summary(kind, data):
        content = _proto.encode("HParamsPluginData", {kind: data})
        return {"value": [{"tag": f"_hparams_/{kind}",
                           "metadata": _plugin("hparams", content)}]}

    return (summary("experiment", experiment),
            summary("session_start_info", {"hparams": entries}),
            summary("session_end_info", {"status": _STATUS_SUCCESS}))
