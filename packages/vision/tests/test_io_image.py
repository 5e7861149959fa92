"""flambeau.vision.io on images Pillow writes and reads: values, modes, layouts and errors."""

from __future__ import annotations

import io as pyio

import numpy as np
import pytest
from PIL import Image

import flambeau
from flambeau.vision import io
from flambeau.vision.io import ImageReadMode


def as_bytes_tensor(data: bytes):
    return flambeau.from_numpy(np.frombuffer(bytearray(data), np.uint8))


def pil_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = pyio.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def chw(array: np.ndarray) -> np.ndarray:
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
RGBA = RNG.integers(0, 256, (5, 7, 4), dtype=np.uint8)
GRAY = RNG.integers(0, 256, (5, 7), dtype=np.uint8)
LA = RNG.integers(0, 256, (5, 7, 2), dtype=np.uint8)


@pytest.mark.parametrize("array,pil_mode", [(RGB, "RGB"), (RGBA, "RGBA"), (GRAY, "L"),
                                            (LA, "LA")])
def test_decode_png_unchanged_keeps_channels(array, pil_mode):
    data = as_bytes_tensor(pil_bytes(Image.fromarray(array, pil_mode), "PNG"))
    for decode in (io.decode_png, io.decode_image):
        out = decode(data)
        assert out.dtype == flambeau.uint8 and out.device.type == "cpu"
        np.testing.assert_array_equal(out.cpu().numpy(), chw(array))


@pytest.mark.parametrize("mode,pil_mode", [("RGB", "RGB"), (ImageReadMode.RGBA, "RGBA"),
                                           (ImageReadMode.RGB_ALPHA, "RGBA")])
def test_decode_png_modes_convert(mode, pil_mode):
    image = Image.fromarray(RGBA, "RGBA")
    data = as_bytes_tensor(pil_bytes(image, "PNG"))
    expected = chw(np.asarray(image.convert(pil_mode)))
    np.testing.assert_array_equal(io.decode_png(data, mode=mode).cpu().numpy(), expected)


def libpng_gray(rgb):
    """png_set_rgb_to_gray(0.2989, 0.587), torchvision's call: 15-bit weights, truncated."""
    red, green = 29890 * 32768 // 100000, 58700 * 32768 // 100000
    r, g, b = (rgb[..., k].astype(np.int64) for k in range(3))
    return ((red * r + green * g + (32768 - red - green) * b) >> 15).astype(np.uint8)


@pytest.mark.parametrize("source", ["RGB", "RGBA", "P"])
def test_decode_png_gray_modes_weigh_as_libpng(source):
    image = Image.fromarray(RGBA, "RGBA").convert(source)
    data = as_bytes_tensor(pil_bytes(image, "PNG"))
    rgba = np.asarray(image.convert("RGBA"))
    gray = libpng_gray(rgba)
    assert (gray != np.asarray(image.convert("L"))).any()  # Pillow rounds: not the same
    np.testing.assert_array_equal(io.decode_png(data, mode="GRAY").cpu().numpy(), gray[None])
    np.testing.assert_array_equal(io.decode_image(data, mode="gray_alpha").cpu().numpy(),
                                  np.stack([gray, rgba[..., 3]]))
    # gray pixels keep their value
    flat = np.full((2, 3, 3), 77, np.uint8)
    out = io.decode_png(as_bytes_tensor(pil_bytes(Image.fromarray(flat), "PNG")), mode="GRAY")
    np.testing.assert_array_equal(out.cpu().numpy(), np.full((1, 2, 3), 77))


def test_palette_png_unchanged_gives_indices_and_modes_expand():
    # UNCHANGED reads a palette PNG as stored, one channel of indices (torchvision's libpng
    # decoder applies no transformation): a segmentation mask gives its class ids
    palette = Image.fromarray(RGB).quantize(8)
    indices = np.asarray(palette)
    assert indices.max() > 0 and len(np.unique(indices)) > 2
    data = as_bytes_tensor(pil_bytes(palette, "PNG"))
    for decode in (io.decode_png, io.decode_image):
        out = decode(data)
        assert out.dtype == flambeau.uint8
        np.testing.assert_array_equal(out.cpu().numpy(), indices[None])
    rgb = io.decode_png(data, mode="RGB").cpu().numpy()
    np.testing.assert_array_equal(rgb, chw(np.asarray(palette.convert("RGB"))))
    with_alpha = as_bytes_tensor(pil_bytes(palette, "PNG", transparency=0))
    np.testing.assert_array_equal(io.decode_png(with_alpha).cpu().numpy(), indices[None])
    rgba = io.decode_png(with_alpha, mode=ImageReadMode.RGBA).cpu().numpy()
    assert rgba.shape[0] == 4
    np.testing.assert_array_equal(rgba[3], np.where(indices == 0, 0, 255))


def test_sixteen_bit_png_decodes_to_uint16():
    values = RNG.integers(0, 65536, (4, 6), dtype=np.uint16)
    data = as_bytes_tensor(pil_bytes(Image.fromarray(values), "PNG"))
    out = io.decode_png(data)
    assert out.dtype == flambeau.uint16 and tuple(out.shape) == (1, 4, 6)
    np.testing.assert_array_equal(out.cpu().numpy()[0], values)
    rgb = io.decode_image(data, mode="RGB").cpu().numpy()
    np.testing.assert_array_equal(rgb, np.stack([values] * 3))


@pytest.mark.parametrize("array", [RGB, GRAY])
def test_decode_jpeg_matches_pillow(array):
    raw = pil_bytes(Image.fromarray(array), "JPEG", quality=90)
    data = as_bytes_tensor(raw)
    expected = chw(np.asarray(Image.open(pyio.BytesIO(raw))))
    for decode in (io.decode_jpeg, io.decode_image):
        np.testing.assert_array_equal(decode(data).cpu().numpy(), expected)


def test_decode_jpeg_gray_is_libjpeg_luma_and_list_input():
    raw = pil_bytes(Image.fromarray(RGB), "JPEG", quality=90)
    image = Image.open(pyio.BytesIO(raw))
    image.draft("L", image.size)
    expected = np.asarray(image.convert("L"))[None]
    data = as_bytes_tensor(raw)
    gray = io.decode_jpeg(data, mode=ImageReadMode.GRAY)
    np.testing.assert_array_equal(gray.cpu().numpy(), expected)
    outs = io.decode_jpeg([data, data], mode="RGB")
    assert isinstance(outs, list) and len(outs) == 2 and tuple(outs[1].shape) == (3, 5, 7)


def test_exif_orientation_is_applied_on_request():
    image = Image.fromarray(RGB)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = as_bytes_tensor(pil_bytes(image, "JPEG", quality=95, exif=exif.tobytes()))
    assert tuple(io.decode_jpeg(data).shape) == (3, 5, 7)
    rotated = io.decode_jpeg(data, apply_exif_orientation=True)
    assert tuple(rotated.shape) == (3, 7, 5)
    plain = io.decode_jpeg(data).cpu().numpy()
    np.testing.assert_array_equal(rotated.cpu().numpy(), np.rot90(plain, k=-1, axes=(1, 2)))


def test_decode_gif_and_webp():
    frames = [Image.fromarray(np.full((4, 5, 3), v, np.uint8)) for v in (0, 120, 250)]
    buffer = pyio.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    out = io.decode_image(as_bytes_tensor(buffer.getvalue()))
    assert tuple(out.shape) == (3, 3, 4, 5)
    assert [int(out[i, 0, 0, 0]) for i in range(3)] == [0, 120, 250]
    webp = pil_bytes(Image.fromarray(RGB), "WEBP", lossless=True)
    np.testing.assert_array_equal(io.decode_image(as_bytes_tensor(webp)).cpu().numpy(),
                                  chw(RGB))
    animated = pyio.BytesIO()
    frames[0].save(animated, format="WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(RuntimeError, match=r"decode_image: Animated webp files are not "
                                           r"supported\."):
        io.decode_image(as_bytes_tensor(animated.getvalue()))


@pytest.mark.parametrize("array", [RGB, GRAY[:, :, None]])
def test_encode_png_roundtrip_and_level(array):
    image = flambeau.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
    small, big = io.encode_png(image, compression_level=9), io.encode_png(image, 0)
    assert small.dtype == flambeau.uint8 and small.dim() == 1
    flat = flambeau.zeros(1, 64, 64, dtype=flambeau.uint8)
    assert io.encode_png(flat, 0).numel() > io.encode_png(flat, 9).numel()
    for data in (small, big):
        decoded = np.asarray(Image.open(pyio.BytesIO(data.cpu().numpy().tobytes())))
        np.testing.assert_array_equal(decoded, array.squeeze(-1) if array.shape[-1] == 1
                                      else array)


def test_encode_jpeg_matches_pillow_and_lists():
    image = flambeau.from_numpy(np.ascontiguousarray(RGB.transpose(2, 0, 1)))
    data = io.encode_jpeg(image, quality=80)
    assert data.cpu().numpy().tobytes() == pil_bytes(Image.fromarray(RGB), "JPEG", quality=80)
    many = io.encode_jpeg([image, image[:1]])
    assert isinstance(many, list) and len(many) == 2
    assert tuple(io.decode_jpeg(many[1]).shape) == (1, 5, 7)


def test_files_roundtrip(tmp_path):
    image = flambeau.from_numpy(np.ascontiguousarray(RGB.transpose(2, 0, 1)))
    io.write_png(image, tmp_path / "a.png")
    np.testing.assert_array_equal(io.read_image(tmp_path / "a.png").cpu().numpy(), chw(RGB))
    np.testing.assert_array_equal(io.decode_image(str(tmp_path / "a.png")).cpu().numpy(),
                                  chw(RGB))
    smooth = np.broadcast_to(np.arange(0, 256, 8, dtype=np.uint8), (3, 16, 32))
    io.write_jpeg(flambeau.from_numpy(smooth.copy()), tmp_path / "a.jpg", quality=100)
    jpeg = io.read_image(tmp_path / "a.jpg", mode="RGB").cpu().numpy().astype(int)
    assert np.abs(jpeg - smooth).max() <= 3
    raw = io.read_file(tmp_path / "a.png")
    assert raw.dtype == flambeau.uint8 and raw.cpu().numpy().tobytes() == (
        tmp_path / "a.png").read_bytes()
    io.write_file(tmp_path / "copy", raw)
    assert (tmp_path / "copy").read_bytes() == (tmp_path / "a.png").read_bytes()


def test_decode_errors():
    png = as_bytes_tensor(pil_bytes(Image.fromarray(RGB), "PNG"))
    jpeg = as_bytes_tensor(pil_bytes(Image.fromarray(RGB), "JPEG"))
    with pytest.raises(RuntimeError, match=r"decode_png: Content is not png!"):
        io.decode_png(jpeg)
    with pytest.raises(RuntimeError, match=r"decode_jpeg: Not a JPEG file: starts with 0x89 "):
        io.decode_jpeg(png)
    with pytest.raises(RuntimeError, match=r"decode_image: Unsupported image file\. Only jpeg"):
        io.decode_image(as_bytes_tensor(b"hello world"))
    with pytest.raises(RuntimeError, match=r"Expected a flambeau.uint8 tensor, got "
                                           r"flambeau.float32"):
        io.decode_image(flambeau.zeros(10))
    with pytest.raises(RuntimeError, match=r"Expected a non empty 1-dimensional tensor, got "
                                           r"shape \(2, 5\)"):
        io.decode_png(flambeau.zeros(2, 5, dtype=flambeau.uint8))
    with pytest.raises(RuntimeError, match=r"non empty .* got shape \(0,\)"):
        io.decode_jpeg(flambeau.zeros(0, dtype=flambeau.uint8, device="cpu"))
    with pytest.raises(TypeError, match=r"decode_png: expected a 1-dimensional uint8 tensor"):
        io.decode_png(b"\x89PNG")
    truncated = as_bytes_tensor(pil_bytes(Image.fromarray(RGB), "PNG")[:60])
    with pytest.raises(RuntimeError, match=r"decode_png: cannot decode the image"):
        io.decode_png(truncated)
    with pytest.raises(ValueError, match=r"unknown image read mode 'CMYK'.*GRAY_ALPHA"):
        io.decode_png(png, mode="CMYK")
    for mode in ("GRAY_ALPHA", ImageReadMode.RGBA):
        # a JPEG has no alpha channel: torchvision refuses the alpha modes, also via decode_image
        with pytest.raises(RuntimeError, match=r"decode_jpeg: The provided mode is not "
                                               r"supported for JPEG files"):
            io.decode_jpeg(jpeg, mode=mode)
        with pytest.raises(RuntimeError, match=r"decode_image: The provided mode is not "
                                               r"supported for JPEG files"):
            io.decode_image(jpeg, mode=mode)
    with pytest.raises(ValueError, match=r"Input list must contain at least one element"):
        io.decode_jpeg([])
    with pytest.raises(ValueError, match=r"All elements of the input list must be tensors"):
        io.decode_jpeg([jpeg, b"x"])
    with pytest.raises(RuntimeError, match=r"\[Errno 2\] No such file or directory"):
        io.read_image("/no/such/image.png")


def test_encode_errors(tmp_path):
    image = flambeau.zeros(3, 4, 4, dtype=flambeau.uint8)
    with pytest.raises(RuntimeError, match=r"encode_png: Compression level should be between "
                                           r"0 and 9, got 10"):
        io.encode_png(image, compression_level=10)
    with pytest.raises(RuntimeError, match=r"Compression level .* got -1"):
        io.write_png(image, tmp_path / "x.png", compression_level=-1)
    with pytest.raises(ValueError, match=r"Image quality should be a positive number between "
                                         r"1 and 100, got 101"):
        io.encode_jpeg(image, quality=101)
    with pytest.raises(ValueError, match=r"requires at least one input tensor"):
        io.encode_jpeg([])
    with pytest.raises(RuntimeError, match=r"The number of channels should be 1 or 3, got: 5"):
        io.encode_jpeg(flambeau.zeros(5, 4, 4, dtype=flambeau.uint8))
    with pytest.raises(RuntimeError, match=r"Input data should be a 3-dimensional tensor, got "
                                           r"shape \(1, 3, 4, 4\)"):
        io.encode_png(flambeau.zeros(1, 3, 4, 4, dtype=flambeau.uint8))
    with pytest.raises(RuntimeError, match=r"encode_jpeg: Input tensor dtype should be uint8"):
        io.write_jpeg(flambeau.zeros(3, 4, 4), tmp_path / "x.jpg")
    assert not (tmp_path / "x.jpg").exists() and not (tmp_path / "x.png").exists()
    with pytest.raises(RuntimeError, match=r"write_file: Input tensor dtype should be uint8"):
        io.write_file(tmp_path / "f", flambeau.zeros(3))
    with pytest.raises(RuntimeError, match=r"write_file: Input data should be a 1-dimensional"):
        io.write_file(tmp_path / "f", flambeau.zeros(2, 2, dtype=flambeau.uint8))
    with pytest.raises(TypeError, match=r"encode_png: expected a uint8 tensor of shape"):
        io.encode_png(np.zeros((3, 4, 4), np.uint8))


def test_decode_jpeg_devices():
    from flambeau.backends import backend_names

    if "testdev" not in backend_names():
        pytest.skip("the repository's test plugin (testdev device) is not installed")
    data = as_bytes_tensor(pil_bytes(Image.fromarray(RGB), "JPEG"))
    moved = io.decode_jpeg(data, device="testdev")
    assert moved.device.type == "testdev"
    np.testing.assert_array_equal(moved.cpu().numpy(), io.decode_jpeg(data).cpu().numpy())
    on_device = data.to("testdev")
    with pytest.raises(ValueError, match=r"decode_jpeg: Input tensor must be a CPU tensor, got "
                                         r"testdev"):
        io.decode_jpeg(on_device)
    with pytest.raises(ValueError, match=r"Input list must contain tensors on CPU"):
        io.decode_jpeg([data, on_device])
