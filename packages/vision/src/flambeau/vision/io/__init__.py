"""flambeau.vision.io: read, decode, encode and write images as uint8 CHW tensors.

torchvision.io's image functions with its names, arguments and error messages, on Pillow's
codecs. Video I/O (``read_video``, ``VideoReader``, ...) is out of scope: flambeau.vision does
not read or write video.

Examples
--------
>>> import flambeau
>>> from flambeau.vision import io
>>> image = flambeau.zeros(3, 4, 5, dtype=flambeau.uint8)
>>> data = io.encode_png(image)
>>> data.dtype, data.dim()
(flambeau.uint8, 1)
>>> io.decode_image(data).shape
flambeau.Size([3, 4, 5])
"""

from flambeau.vision.io._image import (
    ImageReadMode,
    decode_image,
    decode_jpeg,
    decode_png,
    encode_jpeg,
    encode_png,
    read_file,
    read_image,
    write_file,
    write_jpeg,
    write_png,
)

__all__ = [
    "ImageReadMode", "read_file", "write_file", "decode_image", "decode_jpeg", "decode_png",
    "read_image", "encode_jpeg", "encode_png", "write_jpeg", "write_png",
]
