"""Image files to and from uint8 CHW tensors, with Pillow as the codec."""

from __future__ import annotations

import io
from enum import Enum

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

import flambeau

__all__ = [
    "ImageReadMode", "read_file", "write_file", "decode_image", "decode_jpeg", "decode_png",
    "read_image", "encode_jpeg", "encode_png", "write_jpeg", "write_png",
]

_JPEG_SIGNATURE = b"\xff\xd8\xff"
_PNG_SIGNATURE = b"\x89PNG"
_UNSUPPORTED = "Unsupported image file. Only jpeg, png, webp and gif are currently supported."
# Pillow modes -> the mode UNCHANGED gives: a palette image gives its indices (one channel,
# as libpng without transformations: a mask's class ids), bilevel images read as 8-bit
# grayscale, JPEG's CMYK and YCbCr as RGB
_UNCHANGED = {"1": "L", "L": "L", "LA": "LA", "La": "LA", "P": "P", "PA": "RGBA", "RGB": "RGB",
              "RGBA": "RGBA", "RGBa": "RGBA", "CMYK": "RGB", "YCbCr": "RGB"}
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I")


class ImageReadMode(Enum):
    """The channels an image is decoded to; the functions also take the names as strings.

    ``UNCHANGED`` keeps the file's channels (1 grayscale, 2 grayscale + alpha, 3 RGB,
    4 RGBA; a palette PNG gives its palette indices, such as a segmentation mask's class
    ids, as torchvision), ``GRAY``, ``GRAY_ALPHA``, ``RGB`` and
    ``RGB_ALPHA`` (alias ``RGBA``) convert to 1, 2, 3 and 4 channels. JPEG files take only
    ``UNCHANGED``, ``GRAY`` and ``RGB``, as torchvision's decoder.

    Examples
    --------
    >>> from flambeau.vision.io import ImageReadMode
    >>> ImageReadMode.RGBA is ImageReadMode.RGB_ALPHA, ImageReadMode["GRAY"].value
    (True, 1)
    """

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_JPEG_MODES = (ImageReadMode.UNCHANGED, ImageReadMode.GRAY, ImageReadMode.RGB)


def _read_mode(mode) -> ImageReadMode:
    if isinstance(mode, ImageReadMode):
        return mode
    if isinstance(mode, str) and mode.upper() in ImageReadMode.__members__:
        return ImageReadMode[mode.upper()]
    names = ", ".join(ImageReadMode.__members__)
    raise ValueError(f"unknown image read mode {mode!r}: expected an ImageReadMode or one of "
                     f"{names}")


def _as_tensor(array: np.ndarray):
    return flambeau.from_numpy(np.ascontiguousarray(array))


def _check_uint8(data, op: str, ndim: int, what: str) -> None:
    """The checks (and torchvision's words) of the tensors the encoders and writers take."""
    if not isinstance(data, flambeau.Tensor):
        raise TypeError(f"{op}: expected {what}, got {type(data).__name__}")
    if data.dtype != flambeau.uint8:
        raise RuntimeError(f"{op}: Input tensor dtype should be uint8, got {data.dtype}")
    if data.dim() != ndim:
        raise RuntimeError(f"{op}: Input data should be a {ndim}-dimensional tensor, got shape "
                           f"{tuple(data.shape)}")


def _encoded_bytes(input, op: str) -> bytes:
    """The bytes held by a 1-D uint8 tensor of an encoded image."""
    if not isinstance(input, flambeau.Tensor):
        raise TypeError(f"{op}: expected a 1-dimensional uint8 tensor of encoded bytes, got "
                        f"{type(input).__name__}")
    if input.dtype != flambeau.uint8:
        raise RuntimeError(f"{op}: Expected a flambeau.uint8 tensor, got {input.dtype}")
    if input.dim() != 1 or input.numel() == 0:
        raise RuntimeError(f"{op}: Expected a non empty 1-dimensional tensor, got shape "
                           f"{tuple(input.shape)}")
    return input.cpu().numpy().tobytes()


def _open(data: bytes, op: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise RuntimeError(f"{op}: cannot decode the image: {exc}") from exc
    return image


def _load(image: Image.Image, op: str) -> None:
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise RuntimeError(f"{op}: cannot decode the image: {exc}") from exc


def _sixteen_bit_channels(image: Image.Image, mode: ImageReadMode) -> np.ndarray:
    """A 16-bit grayscale PNG stays uint16, as torchvision decodes it; (H, W, C)."""
    gray = np.asarray(image).astype(np.uint16)
    channels = {ImageReadMode.UNCHANGED: 1, ImageReadMode.GRAY: 1, ImageReadMode.GRAY_ALPHA: 1,
                ImageReadMode.RGB: 3, ImageReadMode.RGB_ALPHA: 3}[mode]
    planes = [gray] * channels
    if mode in (ImageReadMode.GRAY_ALPHA, ImageReadMode.RGB_ALPHA):
        planes.append(np.full_like(gray, np.iinfo(np.uint16).max))
    return np.stack(planes, axis=-1)


def _pil_mode(image: Image.Image, mode: ImageReadMode) -> str:
    if mode is ImageReadMode.UNCHANGED:
        return _UNCHANGED.get(image.mode, "RGB")
    return {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
            ImageReadMode.RGB_ALPHA: "RGBA"}[mode]


def _libpng_gray(rgba: np.ndarray, alpha: bool) -> np.ndarray:
    """libpng's RGB to gray as torchvision asks for it (weights 0.2989, 0.587), (H, W, C).

    libpng weighs 8-bit samples in 15-bit fixed point (9794, 19235, 3739: they sum to 2**15,
    so gray pixels stay as they are) and truncates; Pillow's ``convert("L")`` rounds, one
    level above on about half of the pixels.
    """
    r, g, b = (rgba[..., k].astype(np.uint32) for k in range(3))
    planes = [((9794 * r + 19235 * g + 3739 * b) >> 15).astype(np.uint8)]
    if alpha:
        planes.append(rgba[..., 3])
    return np.stack(planes, axis=-1)


def _frame_array(image: Image.Image, mode: ImageReadMode, png_gray: bool = False) -> np.ndarray:
    """One decoded frame as a (C, H, W) array.

    ``png_gray``: colour converts to GRAY/GRAY_ALPHA as libpng does (a PNG without gamma).
    """
    if image.mode in _SIXTEEN_BIT:
        hwc = _sixteen_bit_channels(image, mode)
    elif (png_gray and mode in (ImageReadMode.GRAY, ImageReadMode.GRAY_ALPHA)
          and image.mode in ("RGB", "RGBA", "P", "PA")):
        hwc = _libpng_gray(np.asarray(image.convert("RGBA")),
                           alpha=mode is ImageReadMode.GRAY_ALPHA)
    else:
        target = _pil_mode(image, mode)
        hwc = np.asarray(image if image.mode == target else image.convert(target))
        if hwc.ndim == 2:
            hwc = hwc[:, :, None]
    return hwc.transpose(2, 0, 1)


def _decode(data: bytes, mode, apply_exif_orientation: bool, op: str):
    mode = _read_mode(mode)
    image = _open(data, op)
    if image.format == "JPEG" and mode not in _JPEG_MODES:
        # libjpeg has no alpha channel to give: torchvision refuses rather than invent one
        raise RuntimeError(f"{op}: The provided mode is not supported for JPEG files")
    if image.format == "JPEG" and mode is ImageReadMode.GRAY:
        # libjpeg's own grayscale output (the luma plane), as torchvision's decoder asks for
        image.draft("L", image.size)
    if image.format == "WEBP" and getattr(image, "is_animated", False):
        # torchvision's decoder reads still WebP images only; a first frame would pass silently
        raise RuntimeError(f"{op}: Animated webp files are not supported.")
    if image.format == "GIF":
        frames = [_frame_array(frame.convert("RGBA" if mode is ImageReadMode.RGB_ALPHA
                                             else "RGB"), mode)
                  for frame in ImageSequence.Iterator(image)]
        return _as_tensor(frames[0] if len(frames) == 1 else np.stack(frames))
    _load(image, op)
    # a gAMA or sRGB chunk makes libpng convert to gray in linear light: Pillow's weights then
    png_gray = image.format == "PNG" and not {"gamma", "srgb"} & image.info.keys()
    if apply_exif_orientation:
        image = ImageOps.exif_transpose(image)
    return _as_tensor(_frame_array(image, mode, png_gray))


def read_file(path):
    """The bytes of a file as a 1-D uint8 tensor.

    Parameters
    ----------
    path : str or path-like
        The file to read.

    Returns
    -------
    Tensor
        uint8 of shape ``(number of bytes,)``.

    Raises
    ------
    RuntimeError
        When the file cannot be read (``[Errno 2] No such file or directory: ...``).

    Examples
    --------
    >>> import tempfile, os
    >>> from flambeau.vision.io import read_file
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> read_file(f.name)
    tensor([97, 98, 99], dtype=flambeau.uint8)
    >>> os.remove(f.name)
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise RuntimeError(str(exc)) from exc
    return flambeau.from_numpy(np.frombuffer(bytearray(data), dtype=np.uint8))


def write_file(filename, data) -> None:
    """Write a 1-D uint8 tensor's bytes to a file.

    Parameters
    ----------
    filename : str or path-like
        The file to (over)write.
    data : Tensor
        uint8 of shape ``(N,)``, such as :func:`encode_png`'s result.

    Examples
    --------
    >>> import tempfile, os, flambeau
    >>> from flambeau.vision.io import write_file
    >>> path = os.path.join(tempfile.mkdtemp(), "x.bin")
    >>> write_file(path, flambeau.tensor([104, 105], dtype=flambeau.uint8))
    >>> open(path, "rb").read()
    b'hi'
    """
    _check_uint8(data, "write_file", 1, "a 1-dimensional uint8 tensor")
    with open(filename, "wb") as f:
        f.write(data.cpu().numpy().tobytes())


def decode_png(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False):
    """Decode PNG bytes into a ``(C, H, W)`` tensor.

    8-bit images give uint8 values; 16-bit grayscale images give uint16 values in
    ``[0, 65535]``, as torchvision (Pillow reduces 16-bit colour PNGs to 8 bits).

    Parameters
    ----------
    input : Tensor
        1-D uint8 tensor of the file's bytes (:func:`read_file`).
    mode : ImageReadMode or str
        The channels to convert to; ``"UNCHANGED"`` keeps the file's.
    apply_exif_orientation : bool
        Rotate and flip as the image's EXIF orientation tag says.

    Raises
    ------
    RuntimeError
        ``Content is not png!`` for bytes of another format, and for a tensor that is not
        1-D uint8 or a corrupt file.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.io import decode_png, encode_png
    >>> image = flambeau.tensor([[[0, 255]], [[10, 20]], [[30, 40]]], dtype=flambeau.uint8)
    >>> decode_png(encode_png(image), mode="GRAY").shape
    flambeau.Size([1, 1, 2])
    """
    data = _encoded_bytes(input, "decode_png")
    if not data.startswith(_PNG_SIGNATURE):
        raise RuntimeError("decode_png: Content is not png!")
    return _decode(data, mode, apply_exif_orientation, "decode_png")


def decode_jpeg(input, mode=ImageReadMode.UNCHANGED, device="cpu",
                apply_exif_orientation: bool = False):
    """Decode JPEG bytes (one tensor or a list of them) into ``(C, H, W)`` uint8 tensors.

    Parameters
    ----------
    input : Tensor or list of Tensor
        1-D uint8 CPU tensor(s) of the files' bytes.
    mode : ImageReadMode or str
        ``UNCHANGED``, ``GRAY`` (libjpeg's luma plane) or ``RGB``.
    device : str or flambeau.device
        Where the decoded images are put (decoding itself runs on the CPU).
    apply_exif_orientation : bool
        Rotate and flip as the image's EXIF orientation tag says.

    Returns
    -------
    Tensor or list of Tensor
        One image per input, as the input was given.

    Raises
    ------
    RuntimeError
        ``Not a JPEG file`` for bytes of another format, ``The provided mode is not
        supported for JPEG files`` for the alpha modes, and for a tensor that is not 1-D
        uint8 or a corrupt file.
    ValueError
        For an empty list, a list of non-tensors, or input on another device than the CPU.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.io import decode_jpeg, encode_jpeg
    >>> image = flambeau.full((3, 8, 8), 128, dtype=flambeau.uint8)
    >>> decoded = decode_jpeg(encode_jpeg(image, quality=95))
    >>> decoded.shape, int(decoded.min()) >= 126
    (flambeau.Size([3, 8, 8]), True)
    """
    if isinstance(input, (list, tuple)):
        if len(input) == 0:
            raise ValueError("decode_jpeg: Input list must contain at least one element")
        if not all(isinstance(t, flambeau.Tensor) for t in input):
            raise ValueError("decode_jpeg: All elements of the input list must be tensors.")
        if not all(t.device.type == "cpu" for t in input):
            raise ValueError("decode_jpeg: Input list must contain tensors on CPU.")
        return [decode_jpeg(t, mode, device, apply_exif_orientation) for t in input]
    if isinstance(input, flambeau.Tensor) and input.device.type != "cpu":
        raise ValueError(f"decode_jpeg: Input tensor must be a CPU tensor, got {input.device}")
    data = _encoded_bytes(input, "decode_jpeg")
    if not data.startswith(_JPEG_SIGNATURE[:2]):
        first = " ".join(f"0x{b:02x}" for b in data[:2])
        raise RuntimeError(f"decode_jpeg: Not a JPEG file: starts with {first}")
    image = _decode(data, mode, apply_exif_orientation, "decode_jpeg")
    return image if flambeau.device(device).type == "cpu" else image.to(device)


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False):
    """Decode a JPEG, PNG, GIF or WebP image, from its bytes or its path, into a tensor.

    The format is read from the bytes' signature, never from a file name. Images are
    ``(C, H, W)``; a GIF of several frames is ``(N, C, H, W)``.

    Parameters
    ----------
    input : Tensor or str or path-like
        1-D uint8 tensor of the file's bytes, or the path of the file.
    mode : ImageReadMode or str
        The channels to convert to; ``"UNCHANGED"`` keeps the file's (GIFs decode to RGB).
    apply_exif_orientation : bool
        Rotate and flip as the image's EXIF orientation tag says.

    Raises
    ------
    RuntimeError
        ``Unsupported image file. Only jpeg, png, webp and gif are currently supported.`` for
        other bytes, ``Animated webp files are not supported.``, and for a tensor that is not
        1-D uint8 or a corrupt file.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.io import decode_image, encode_png
    >>> gray = flambeau.tensor([[[7, 8], [9, 10]]], dtype=flambeau.uint8)
    >>> decode_image(encode_png(gray), mode="RGB")[:, 0, 0]
    tensor([7, 7, 7], dtype=flambeau.uint8)
    """
    if not isinstance(input, flambeau.Tensor):
        input = read_file(input)
    data = _encoded_bytes(input, "decode_image")
    webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    known = (data.startswith(_JPEG_SIGNATURE) or data.startswith(_PNG_SIGNATURE)
             or data.startswith(b"GIF8") or webp)
    if not known:
        raise RuntimeError(f"decode_image: {_UNSUPPORTED}")
    return _decode(data, mode, apply_exif_orientation, "decode_image")


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False):
    """Read and decode an image file: :func:`read_file` then :func:`decode_image`.

    Examples
    --------
    >>> import tempfile, os, flambeau
    >>> from flambeau.vision.io import read_image, write_png
    >>> path = os.path.join(tempfile.mkdtemp(), "a.png")
    >>> write_png(flambeau.zeros(3, 2, 5, dtype=flambeau.uint8), path)
    >>> read_image(path, mode="GRAY").shape
    flambeau.Size([1, 2, 5])
    """
    return decode_image(read_file(path), mode, apply_exif_orientation=apply_exif_orientation)


def _image_array(input, op: str) -> np.ndarray:
    """A (C, H, W) uint8 tensor of 1 or 3 channels as an (H, W) or (H, W, 3) array."""
    _check_uint8(input, op, 3, "a uint8 tensor of shape (C, H, W)")
    channels = input.shape[0]
    if channels not in (1, 3):
        raise RuntimeError(f"{op}: The number of channels should be 1 or 3, got: {channels}")
    array = input.cpu().numpy()
    return array[0] if channels == 1 else array.transpose(1, 2, 0)


def _save(array: np.ndarray, **options):
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, **options)
    return flambeau.from_numpy(np.frombuffer(bytearray(buffer.getvalue()), dtype=np.uint8))


def encode_png(input, compression_level: int = 6):
    """Encode a ``(C, H, W)`` uint8 tensor of 1 or 3 channels as PNG bytes.

    Parameters
    ----------
    input : Tensor
        uint8 image, grayscale (``C == 1``) or RGB (``C == 3``).
    compression_level : int
        zlib's level, 0 (none) to 9 (smallest file).

    Returns
    -------
    Tensor
        1-D uint8 tensor of the file's bytes.

    Raises
    ------
    RuntimeError
        For a level outside [0, 9] or an image that is not 3-D uint8 of 1 or 3 channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.io import encode_png
    >>> bytes(encode_png(flambeau.zeros(1, 2, 2, dtype=flambeau.uint8))[:4].tolist())
    b'\\x89PNG'
    """
    if not 0 <= compression_level <= 9:
        raise RuntimeError(f"encode_png: Compression level should be between 0 and 9, got "
                           f"{compression_level}")
    return _save(_image_array(input, "encode_png"), format="PNG",
                 compress_level=compression_level)


def encode_jpeg(input, quality: int = 75):
    """Encode ``(C, H, W)`` uint8 tensor(s) of 1 or 3 channels as JPEG bytes.

    Parameters
    ----------
    input : Tensor or list of Tensor
        uint8 image(s), grayscale (``C == 1``) or RGB (``C == 3``).
    quality : int
        1 (smallest file) to 100 (best quality).

    Returns
    -------
    Tensor or list of Tensor
        1-D uint8 tensor(s) of the files' bytes, as the input was given.

    Raises
    ------
    ValueError
        For a quality outside [1, 100] or an empty list.
    RuntimeError
        For an image that is not 3-D uint8 of 1 or 3 channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.io import encode_jpeg
    >>> data = encode_jpeg(flambeau.zeros(3, 8, 8, dtype=flambeau.uint8))
    >>> data[:2].tolist()
    [255, 216]
    """
    if not 1 <= quality <= 100:
        raise ValueError("encode_jpeg: Image quality should be a positive number between 1 "
                         f"and 100, got {quality}")
    if isinstance(input, (list, tuple)):
        if not input:
            raise ValueError("encode_jpeg requires at least one input tensor when a list is "
                             "passed")
        return [encode_jpeg(image, quality) for image in input]
    return _save(_image_array(input, "encode_jpeg"), format="JPEG", quality=quality)


def write_png(input, filename, compression_level: int = 6) -> None:
    """Encode a ``(C, H, W)`` uint8 tensor as PNG (:func:`encode_png`) and write the file.

    Examples
    --------
    >>> import tempfile, os, flambeau
    >>> from flambeau.vision.io import write_png
    >>> path = os.path.join(tempfile.mkdtemp(), "a.png")
    >>> write_png(flambeau.zeros(1, 3, 3, dtype=flambeau.uint8), path)
    >>> open(path, "rb").read(4)
    b'\\x89PNG'
    """
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input, filename, quality: int = 75) -> None:
    """Encode a ``(C, H, W)`` uint8 tensor as JPEG (:func:`encode_jpeg`) and write the file.

    Examples
    --------
    >>> import tempfile, os, flambeau
    >>> from flambeau.vision.io import write_jpeg
    >>> path = os.path.join(tempfile.mkdtemp(), "a.jpg")
    >>> write_jpeg(flambeau.zeros(3, 4, 4, dtype=flambeau.uint8), path, quality=90)
    >>> open(path, "rb").read(2)
    b'\\xff\\xd8'
    """
    write_file(filename, encode_jpeg(input, quality))
