"""Drawing on image tensors (torchvision.utils): boxes, masks, keypoints, optical flow."""

from __future__ import annotations

import math
import warnings

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

import flambeau
from flambeau._tensor import Tensor

__all__ = ["draw_bounding_boxes", "draw_segmentation_masks", "draw_keypoints", "flow_to_image"]


def _palette(n: int):
    """torchvision's default colours: ``(i * (2**25-1, 2**15-1, 2**21-1)) % 255`` for object i."""
    return [tuple((i * p) % 255 for p in (2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1))
            for i in range(n)]


def _parse_colors(colors, num_objects: int, floating: bool = False):
    if colors is None:
        colors = _palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError(f"Number of colors must be equal or larger than the number of "
                             f"objects, but got {len(colors)} < {num_objects}.")
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f"colors must be a tuple or a string, or a list thereof, but got "
                         f"{colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got "
                         f"{colors}.")
    else:
        colors = [colors] * num_objects
    colors = [ImageColor.getrgb(c) if isinstance(c, str) else tuple(c) for c in colors]
    if floating:
        colors = [tuple(v / 255 for v in c) for c in colors]
    return colors


def _check_image(name: str, image, channels=(3,)):
    if not isinstance(image, Tensor):
        raise TypeError(f"{name}: the image must be a tensor, got {type(image).__name__}")
    if not (image.dtype == flambeau.uint8 or image.is_floating_point()):
        raise ValueError(f"{name}: the image dtype must be uint8 or float, got {image.dtype}")
    if image.dim() != 3:
        raise ValueError(f"{name}: pass individual images (C, H, W), not batches; got shape "
                         f"{tuple(image.shape)}")
    if image.shape[0] not in channels:
        kinds = "grayscale and RGB images are" if 1 in channels else "an RGB image is"
        raise ValueError(f"{name}: only {kinds} supported, got {image.shape[0]} channels")


def _to_pil(image: Tensor) -> Image.Image:
    """uint8 RGB PIL image; float images in [0, 1] are scaled as torchvision's to_dtype."""
    arr = image.detach().cpu().numpy()
    if image.is_floating_point():
        arr = (arr * (255 + 1.0 - 1e-3)).astype(np.uint8)
    if arr.shape[0] == 1:
        arr = np.repeat(arr, 3, axis=0)
    return Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)))


def _from_pil(img: Image.Image, like: Tensor) -> Tensor:
    out = flambeau.tensor(np.asarray(img.convert("RGB")).transpose(2, 0, 1).copy(),
                          device=like.device)
    return out.to(like.dtype) / 255 if like.is_floating_point() else out


def draw_bounding_boxes(image: Tensor, boxes: Tensor, labels=None, colors=None,
                        fill: bool = False, width: int = 1, font=None, font_size=None,
                        label_colors=None, label_background_colors=None,
                        fill_labels: bool = False) -> Tensor:
    """Draw boxes (and their labels) on a (C, H, W) uint8 or float image, C in {1, 3}.

    Parameters
    ----------
    image : Tensor
        uint8 in [0, 255] or float in [0, 1]; a grayscale image is drawn on as RGB.
    boxes : Tensor
        (N, 4) xyxy pixel boxes, or (N, 8) corners of oriented boxes.
    labels : list of str, optional
    colors : color or list of colors, optional
        PIL colour names, ``"#RRGGBB"`` or RGB tuples; a fixed palette by default.
    fill : bool
        Fill the boxes with their colour at alpha 100/255.
    width : int
        Outline width.
    font, font_size :
        A TrueType font file and its size; Pillow's default font otherwise.
    label_colors, label_background_colors : color or list of colors, optional
    fill_labels : bool
        Draw each label on a filled rectangle.

    Returns
    -------
    Tensor
        (3, H, W) image of the input's dtype.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.utils import draw_bounding_boxes
    >>> image = flambeau.zeros(3, 6, 6, dtype=flambeau.uint8)
    >>> out = draw_bounding_boxes(image, flambeau.tensor([[1, 1, 4, 4]]), colors="red")
    >>> out[0]
    tensor([[  0,   0,   0,   0,   0,   0],
            [  0, 255, 255, 255, 255,   0],
            [  0, 255,   0,   0, 255,   0],
            [  0, 255,   0,   0, 255,   0],
            [  0, 255, 255, 255, 255,   0],
            [  0,   0,   0,   0,   0,   0]], dtype=flambeau.uint8)
    """
    name = "draw_bounding_boxes"
    _check_image(name, image, channels=(1, 3))
    if not isinstance(boxes, Tensor) or boxes.dim() != 2 or boxes.shape[1] not in (4, 8):
        shape = tuple(boxes.shape) if isinstance(boxes, Tensor) else type(boxes).__name__
        raise ValueError(f"{name}: expected boxes of shape (N, 4) or (N, 8), got {shape}")
    if boxes.shape[1] == 4 and bool(((boxes[:, 0] > boxes[:, 2])
                                     | (boxes[:, 1] > boxes[:, 3])).any()):
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use "
                         "flambeau.vision.ops.box_convert to convert them")
    n = boxes.shape[0]
    if n == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn", stacklevel=2)
        return image
    if labels is None:
        labels = [None] * n
    elif len(labels) != n:
        raise ValueError(f"Number of boxes ({n}) and labels ({len(labels)}) mismatch. Please "
                         f"specify labels for each box.")
    colors = _parse_colors(colors, n)
    if label_colors or fill_labels:
        label_colors = _parse_colors(label_colors or "black", n)
    else:
        label_colors = list(colors)
    if fill_labels and label_background_colors:
        label_background_colors = _parse_colors(label_background_colors, n)
    else:
        label_background_colors = list(colors)
    if font is None:
        if font_size is not None:
            warnings.warn("Argument 'font_size' will be ignored since 'font' is not set.",
                          stacklevel=2)
        txt_font = ImageFont.load_default()
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)
    canvas = _to_pil(image)
    draw = ImageDraw.Draw(canvas, "RGBA" if fill else None)
    # PIL draws one shape per call: the loop over boxes is the drawing itself
    for box, color, label, label_color, label_bg in zip(
            boxes.detach().cpu().numpy().astype(np.int64).tolist(), colors, labels,
            label_colors, label_background_colors):
        fill_color = color + (100,) if fill else None
        if len(box) == 4:
            draw.rectangle(box, width=width, outline=color, fill=fill_color)
        else:
            draw.polygon(box, width=width, outline=color, fill=fill_color)
        if label is not None:
            margin = width + 1
            at = (box[0] + margin, box[1] + margin)
            if fill_labels:
                left, top, right, bottom = draw.textbbox(at, label, font=txt_font)
                draw.rectangle((left - 1, top - 1, right + 1, bottom + 1), fill=label_bg)
            draw.text(at, label, fill=label_color, font=txt_font)
    return _from_pil(canvas, image)


def draw_segmentation_masks(image: Tensor, masks: Tensor, alpha: float = 0.8,
                            colors=None) -> Tensor:
    """Blend boolean masks onto a (3, H, W) uint8 or float image.

    Each mask's pixels take its colour, pixels under two or more masks become black, and the
    result is ``image * (1 - alpha) + drawn * alpha`` in the image's dtype.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.utils import draw_segmentation_masks
    >>> image = flambeau.full((3, 1, 2), 100, dtype=flambeau.uint8)
    >>> masks = flambeau.tensor([[[True, False]]])
    >>> draw_segmentation_masks(image, masks, alpha=0.5, colors=(200, 0, 50))
    tensor([[[150, 100]],
    <BLANKLINE>
            [[ 50, 100]],
    <BLANKLINE>
            [[ 75, 100]]], dtype=flambeau.uint8)
    """
    name = "draw_segmentation_masks"
    _check_image(name, image)
    if not isinstance(masks, Tensor):
        raise TypeError(f"{name}: masks must be a tensor, got {type(masks).__name__}")
    if masks.dim() == 2:
        masks = masks[None]
    if masks.dim() != 3:
        raise ValueError(f"{name}: masks must be of shape (H, W) or (num_masks, H, W), got "
                         f"{tuple(masks.shape)}")
    if masks.dtype != flambeau.bool:
        raise ValueError(f"{name}: the masks must be of dtype bool, got {masks.dtype}")
    if tuple(masks.shape[-2:]) != tuple(image.shape[-2:]):
        raise ValueError(f"{name}: the image and the masks must have the same height and "
                         f"width, got {tuple(image.shape)} and {tuple(masks.shape)}")
    n = masks.shape[0]
    if n == 0:
        warnings.warn("masks doesn't contain any mask. No mask was drawn", stacklevel=2)
        return image
    # uint8 images blend in float32, as torch's uint8 * float does
    work = flambeau.float32 if image.dtype == flambeau.uint8 else image.dtype
    palette = flambeau.tensor(_parse_colors(colors, n, image.is_floating_point()),
                              dtype=work, device=image.device)  # (n, 3)
    m = masks.to(work)
    covered = m.sum(0)[None]
    painted = flambeau.einsum("nc,nhw->chw", palette, m)  # exact where one mask covers
    base = image.to(work)
    # pixels under two or more masks turn black
    drawn = flambeau.where(covered > 1, 0.0, flambeau.where(covered > 0, painted, base))
    out = base * (1 - alpha) + drawn * alpha
    return out.to(image.dtype)


def draw_keypoints(image: Tensor, keypoints: Tensor, connectivity=None, colors=None,
                   radius: int = 2, width: int = 3, visibility=None) -> Tensor:
    """Draw keypoints (discs) and their connections (lines) on a (3, H, W) image.

    Parameters
    ----------
    keypoints : Tensor
        (num_instances, K, 2) pixel coordinates (x, y).
    connectivity : list of (int, int), optional
        Pairs of keypoint indices joined by a line.
    colors : str or (int, int, int), optional
        Colour of the discs (lines are white, as torchvision's).
    radius, width : int
        Disc radius and line width.
    visibility : Tensor, optional
        (num_instances, K) bools; invisible keypoints and their connections are skipped.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.utils import draw_keypoints
    >>> image = flambeau.zeros(3, 5, 5, dtype=flambeau.uint8)
    >>> out = draw_keypoints(image, flambeau.tensor([[[2, 2]]]), colors="blue", radius=1)
    >>> out[2]
    tensor([[  0,   0,   0,   0,   0],
            [  0,   0, 255,   0,   0],
            [  0, 255, 255, 255,   0],
            [  0,   0, 255,   0,   0],
            [  0,   0,   0,   0,   0]], dtype=flambeau.uint8)
    """
    name = "draw_keypoints"
    _check_image(name, image)
    if not isinstance(keypoints, Tensor) or keypoints.dim() != 3:
        shape = tuple(keypoints.shape) if isinstance(keypoints, Tensor) else type(keypoints)
        raise ValueError(f"{name}: keypoints must be of shape (num_instances, K, 2), got {shape}")
    if visibility is None:
        vis = np.ones(tuple(keypoints.shape[:-1]), dtype=bool)
    else:
        vis = visibility.detach().cpu().numpy().astype(bool)
        if vis.ndim == 3:
            vis = vis.squeeze(-1)
        if vis.ndim != 2:
            raise ValueError(f"{name}: visibility must be of shape (num_instances, K), got "
                             f"ndim={vis.ndim}")
        if vis.shape != tuple(keypoints.shape[:-1]):
            raise ValueError(f"{name}: keypoints and visibility must have the same "
                             f"num_instances and K, got visibility of shape {vis.shape} and "
                             f"keypoints of shape {tuple(keypoints.shape)}")
    canvas = _to_pil(image)
    draw = ImageDraw.Draw(canvas)
    points = keypoints.detach().cpu().numpy().astype(np.int64).tolist()
    # PIL draws one shape per call: the loops are the drawing itself
    for inst, inst_vis in zip(points, vis.tolist()):
        for (x, y), seen in zip(inst, inst_vis):
            if seen:
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colors,
                             outline=None, width=0)
        for a, b in connectivity or ():
            if inst_vis[a] and inst_vis[b]:
                draw.line((tuple(inst[a]), tuple(inst[b])), width=width)
    return _from_pil(canvas, image)


def _colorwheel() -> np.ndarray:
    """Baker et al.'s (Middlebury) 55-colour hue wheel: red, yellow, green, cyan, blue, magenta."""
    segments = [(15, 0, 1), (6, 1, 0), (4, 1, 2), (11, 2, 1), (13, 2, 0), (6, 0, 2)]
    rows = []
    for n, full, ramp in segments:
        # within a segment one channel stays full while the next ramps up or the last down
        block = np.zeros((n, 3))
        block[:, full] = 255
        steps = np.floor(255 * np.arange(n) / n)
        rising = ramp == (full + 1) % 3
        block[:, ramp] = steps if rising else 255 - steps
        rows.append(block)
    return np.concatenate(rows)


def flow_to_image(flow: Tensor) -> Tensor:
    """Colour-code optical flow (2, H, W) or (N, 2, H, W), float32, as a uint8 RGB image.

    Hue is the direction, saturation the magnitude relative to the largest in the input.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.utils import flow_to_image
    >>> flow = flambeau.zeros(2, 1, 2)
    >>> flow[0, 0, 1] = 1.0  # rightward motion at the second pixel
    >>> flow_to_image(flow)
    tensor([[[255, 255]],
    <BLANKLINE>
            [[255,   0]],
    <BLANKLINE>
            [[255,   0]]], dtype=flambeau.uint8)
    """
    if not isinstance(flow, Tensor):
        raise TypeError(f"flow_to_image: expected a Tensor, got {type(flow).__name__}")
    if flow.dtype != flambeau.float32:
        raise ValueError(f"Flow should be of dtype flambeau.float32, got {flow.dtype}.")
    shape = tuple(flow.shape)
    batch = flow if flow.dim() == 4 else flow[None]
    if batch.dim() != 4 or batch.shape[1] != 2:
        raise ValueError(f"Input flow should have shape (2, H, W) or (N, 2, H, W), got {shape}.")
    norm = (batch ** 2).sum(dim=1).sqrt()
    flow = batch / (norm.max() + float(np.finfo(np.float32).eps))
    wheel = flambeau.tensor(_colorwheel() / 255.0, dtype=flow.dtype, device=flow.device)
    ncols = wheel.shape[0]
    norm = (flow ** 2).sum(dim=1).sqrt()  # (N, H, W), in [0, 1]
    angle = flambeau.atan2(-flow[:, 1], -flow[:, 0]) / math.pi
    fk = (angle + 1) / 2 * (ncols - 1)
    k0 = fk.floor().long()
    k1 = flambeau.where(k0 + 1 == ncols, 0, k0 + 1)
    f = (fk - k0)[..., None]
    col = (1 - f) * wheel[k0] + f * wheel[k1]  # (N, H, W, 3)
    col = 1 - norm[..., None] * (1 - col)
    img = (255 * col).floor().to(flambeau.uint8).permute(0, 3, 1, 2)
    return img[0] if len(shape) == 3 else img
