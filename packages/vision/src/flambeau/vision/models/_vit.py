"""Vision Transformer (Dosovitskiy et al., 2021) with torchvision's module tree and parameter
names."""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial

import flambeau
from flambeau import nn
from flambeau.vision.models._layers import Conv2dNormActivation
from flambeau.vision.models._weight_enums import (
    WeightsEnum,
    _overwrite_named_param,
    _resolve,
)
from flambeau.vision.models._weights import _build
from flambeau.vision.ops._misc import MLP

__all__ = ["VisionTransformer", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"]


class _MLPBlock(MLP):
    """ops.MLP with GELU (linear keys 0 and 3) and ViT's initialization."""

    # version 1, the layout of torchvision's published ViT files, named the linears
    # linear_1 and linear_2: loading renames them, as torchvision's MLPBlock does
    _version = 2

    def __init__(self, in_dim, mlp_dim, dropout):
        super().__init__(in_dim, [mlp_dim, in_dim], activation_layer=nn.GELU, dropout=dropout)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.normal_(m.bias, std=1e-6)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
        if local_metadata.get("version", 1) < 2:
            for number, index in (("1", "0"), ("2", "3")):
                for kind in ("weight", "bias"):
                    old = f"{prefix}linear_{number}.{kind}"
                    if old in state_dict:
                        state_dict[f"{prefix}{index}.{kind}"] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)


class _EncoderBlock(nn.Module):
    """Pre-norm self-attention and MLP, each with a residual connection."""

    def __init__(self, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                 norm_layer=partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads,
                                                    dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = _MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = self.dropout(y) + x
        return x + self.mlp(self.ln_2(x))


class _Encoder(nn.Module):
    def __init__(self, seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                 attention_dropout, norm_layer=partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        self.pos_embedding = nn.Parameter(
            nn.init.normal_(flambeau.empty(1, seq_length, hidden_dim), std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", _EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                 attention_dropout, norm_layer))
            for i in range(num_layers)))
        self.ln = norm_layer(hidden_dim)

    def forward(self, x):
        return self.ln(self.layers(self.dropout(x + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """ViT: image patches as tokens, a class token, a Transformer encoder, a linear head.

    Parameters
    ----------
    image_size : int
        Side of the (square) input images; a multiple of ``patch_size``.
    patch_size, num_layers, num_heads, hidden_dim, mlp_dim : int
        The encoder's shape.
    dropout, attention_dropout : float
        Dropout in the encoder (training only).
    num_classes : int
    representation_size : int, optional
        Adds a ``pre_logits`` linear + tanh before the head.
    norm_layer : callable
        Defaults to ``LayerNorm(eps=1e-6)``.
    conv_stem_configs : list, optional
        ``(out_channels, kernel_size, stride[, norm_layer, activation_layer])`` per layer of a
        convolutional stem replacing the patch projection.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import VisionTransformer
    >>> vit = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
    ...                         hidden_dim=16, mlp_dim=32, num_classes=5)
    >>> vit(flambeau.randn(2, 3, 32, 32)).shape
    flambeau.Size([2, 5])
    >>> vit.encoder.pos_embedding.shape  # 16 patches and the class token
    flambeau.Size([1, 17, 16])
    """

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int,
                 hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, num_classes: int = 1000,
                 representation_size=None, norm_layer=partial(nn.LayerNorm, eps=1e-6),
                 conv_stem_configs=None):
        super().__init__()
        if image_size % patch_size != 0:
            raise ValueError(f"VisionTransformer: image_size {image_size} is not a multiple of "
                             f"patch_size {patch_size}")
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.num_classes = num_classes
        self.representation_size = representation_size
        self.norm_layer = norm_layer
        if conv_stem_configs is not None:
            self.conv_proj = nn.Sequential()
            channels = 3
            for i, cfg in enumerate(conv_stem_configs):
                out, kernel, stride, *layers = cfg
                norm, act = (list(layers) + [nn.BatchNorm2d, nn.ReLU][len(layers):])[:2]
                self.conv_proj.add_module(f"conv_bn_relu_{i}", Conv2dNormActivation(
                    channels, out, kernel, stride, norm_layer=norm, activation_layer=act))
                channels = out
            self.conv_proj.add_module("conv_last", nn.Conv2d(channels, hidden_dim, 1))
            nn.init.normal_(self.conv_proj.conv_last.weight, std=math.sqrt(2.0 / hidden_dim))
            nn.init.zeros_(self.conv_proj.conv_last.bias)
        else:
            self.conv_proj = nn.Conv2d(3, hidden_dim, patch_size, patch_size)
            nn.init.trunc_normal_(self.conv_proj.weight,
                                  std=math.sqrt(1 / (3 * patch_size * patch_size)))
            nn.init.zeros_(self.conv_proj.bias)
        self.class_token = nn.Parameter(flambeau.zeros(1, 1, hidden_dim))
        self.seq_length = (image_size // patch_size) ** 2 + 1
        self.encoder = _Encoder(self.seq_length, num_layers, num_heads, hidden_dim, mlp_dim,
                                dropout, attention_dropout, norm_layer)
        heads = OrderedDict()
        if representation_size is None:
            heads["head"] = nn.Linear(hidden_dim, num_classes)
        else:
            heads["pre_logits"] = nn.Linear(hidden_dim, representation_size)
            heads["act"] = nn.Tanh()
            heads["head"] = nn.Linear(representation_size, num_classes)
            nn.init.trunc_normal_(heads["pre_logits"].weight,
                                  std=math.sqrt(1 / hidden_dim))
            nn.init.zeros_(heads["pre_logits"].bias)
        self.heads = nn.Sequential(heads)
        nn.init.zeros_(self.heads.head.weight)
        nn.init.zeros_(self.heads.head.bias)

    def _process_input(self, x):
        n, _, h, w = x.shape
        if (h, w) != (self.image_size, self.image_size):
            raise ValueError(f"VisionTransformer: expected images of {self.image_size}x"
                             f"{self.image_size}, got {h}x{w} (input shape {tuple(x.shape)}); "
                             "build the model with image_size= the size you feed")
        x = self.conv_proj(x)
        return x.reshape(n, self.hidden_dim, -1).permute(0, 2, 1)

    def forward(self, x):
        x = self._process_input(x)
        token = self.class_token.expand(x.shape[0], -1, -1)
        x = self.encoder(flambeau.cat([token, x], dim=1))
        return self.heads(x[:, 0])


def _vit(name, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, weights, progress,
         kwargs):
    shape = {"patch_size": patch_size, "num_layers": num_layers, "num_heads": num_heads,
             "hidden_dim": hidden_dim, "mlp_dim": mlp_dim}
    for key in shape:  # as torchvision's builders, which pass them on beside **kwargs
        if key in kwargs:
            raise TypeError(f"{name}: got multiple values for keyword argument {key!r} (the "
                            f"model has {key}={shape[key]}); build a VisionTransformer for "
                            "another shape")
    weights = _resolve(name, weights, kwargs)
    if isinstance(weights, WeightsEnum):
        side = weights.meta["min_size"][0]  # the weights' position embeddings fix the size
        _overwrite_named_param(name, kwargs, "image_size", side,
                               f"{weights!r} was trained on {side}x{side} images")
    image_size = kwargs.pop("image_size", 224)
    return _build(name, partial(VisionTransformer, image_size=image_size, **shape), weights,
                  progress, kwargs)


def vit_b_16(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-B/16 (86,567,656 parameters at 224x224); ``weights``: enum member, its name or a file.

    ``image_size`` (default 224, or the size of the weights given: 384 for
    ``IMAGENET1K_SWAG_E2E_V1``) and the other keyword arguments go to
    :class:`VisionTransformer`; the shape (``patch_size``, ``num_layers``, ``num_heads``,
    ``hidden_dim``, ``mlp_dim``) is the model's and cannot be passed, as in torchvision.

    Examples
    --------
    >>> from flambeau.vision.models import vit_b_16
    >>> sum(p.numel() for p in vit_b_16().parameters())
    86567656
    """
    return _vit("vit_b_16", 16, 12, 12, 768, 3072, weights, progress, kwargs)


def vit_b_32(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-B/32 (88,224,232 parameters at 224x224); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import vit_b_32
    >>> vit_b_32(num_classes=10).encoder.pos_embedding.shape  # 7 x 7 patches + class token
    flambeau.Size([1, 50, 768])
    """
    return _vit("vit_b_32", 32, 12, 12, 768, 3072, weights, progress, kwargs)


def vit_l_16(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-L/16 (304,326,632 parameters at 224x224); ``weights``: enum member, its name or a file.

    24 layers, 16 heads, width 1024, MLP 4096.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> list_models(include="vit_*_16")
    ['vit_b_16', 'vit_l_16']
    """
    return _vit("vit_l_16", 16, 24, 16, 1024, 4096, weights, progress, kwargs)


def vit_l_32(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-L/32 (306,535,400 parameters at 224x224); ``weights``: enum member, its name or a file.

    24 layers, 16 heads, width 1024, MLP 4096.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> list_models(include="vit_l_*")
    ['vit_l_16', 'vit_l_32']
    """
    return _vit("vit_l_32", 32, 24, 16, 1024, 4096, weights, progress, kwargs)


def vit_h_14(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-H/14 (632,045,800 parameters at 224x224); ``weights``: enum member, its name or a file.

    32 layers, 16 heads, width 1280, MLP 5120 (2.5 GB in float32).

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> list_models(include="vit_h_*")
    ['vit_h_14']
    """
    return _vit("vit_h_14", 14, 32, 16, 1280, 5120, weights, progress, kwargs)
