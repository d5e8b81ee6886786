"""Restormer (Zamir et al., "Restormer: Efficient Transformer for High-Resolution Image
Restoration", CVPR 2022; swz30/Restormer ``basicsr/models/archs/restormer_arch.py``).

A four-level U-Net of transformer blocks (pre-norm attention + feed-forward, both residual) on a
3×3 patch embedding; pixel-(un)shuffle resizing, 1×1 channel reduction after the two lower skip
concatenations, a full-resolution refinement stage and a global residual. The parts the paper
ablates (its Table 7) are config entries: ``attention`` (``MDTA``, the transposed channel attention,
or ``SpatialSelfAttention``, plain multi-head attention over pixels), ``ffn`` (``GDFN`` or the plain
``ConvFFN``) and ``num_refinement_blocks`` (0 drops the refinement stage). Parameter names follow
the release, so its ``{'params': state_dict}`` loads key for key. At the deraining defaults:
26,126,644 parameters. Sides must be multiples of 8 (``size_divisor``); inference pads and crops.
"""
import torch
import torch.nn.functional as F
from torch import nn

from danet.models import Generator
from danet.registry import MODELS


class BiasFreeLayerNorm(nn.Module):
    """``x / sqrt(var(x) + 1e-5) * weight`` over the last dimension (no centring, no bias)."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.var(-1, keepdim=True, unbiased=False) + 1e-5) * self.weight


class ChannelNorm(nn.Module):
    """Layer norm over the channels of every pixel of a B×C×H×W map (``body``: the norm)."""

    def __init__(self, dim: int, norm: str = 'WithBias'):
        super().__init__()
        if norm not in ('WithBias', 'BiasFree'):
            raise ValueError(f"norm must be 'WithBias' or 'BiasFree', got {norm!r}")
        self.body = nn.LayerNorm(dim, eps=1e-5) if norm == 'WithBias' else BiasFreeLayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def heads_split(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """B×C×H×W -> B×heads×(C/heads)×(H·W)."""
    b, c, h, w = x.shape
    return x.reshape(b, num_heads, c // num_heads, h * w)


class QKV(nn.Module):
    """1×1 projection to query, key and value, optionally followed by a 3×3 depth-wise conv
    (``qkv``, ``qkv_dwconv``), and the 1×1 output projection (``project_out``)."""

    def __init__(self, dim: int, num_heads: int, bias: bool, dconv: bool):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'{type(self).__name__}: dim {dim} is not divisible by '
                             f'{num_heads} heads')
        self.num_heads = num_heads
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=bias)
        if dconv:
            self.qkv_dwconv = nn.Conv2d(dim * 3, dim * 3, 3, padding=1, groups=dim * 3, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)

    def queries_keys_values(self, x: torch.Tensor) -> list[torch.Tensor]:
        qkv = self.qkv(x)
        if hasattr(self, 'qkv_dwconv'):
            qkv = self.qkv_dwconv(qkv)
        return [heads_split(t, self.num_heads) for t in qkv.chunk(3, dim=1)]


@MODELS.register_module()
class MDTA(QKV):
    """Multi-Dconv-head Transposed Attention: per head, a (C/heads)×(C/heads) attention between
    channels from L2-normalised queries and keys over all pixels, scaled by a learnt
    ``temperature``; cost linear in the pixel count. ``dconv=False``: the paper's MTA ablation."""

    def __init__(self, dim: int, num_heads: int, bias: bool = False, dconv: bool = True):
        super().__init__(dim, num_heads, bias, dconv)
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))

    def channel_scores(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention logits (B×heads×c×c) and the values (B×heads×c×HW)."""
        q, k, v = self.queries_keys_values(x)
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        return q @ k.transpose(-2, -1) * self.temperature, v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores, v = self.channel_scores(x)
        return self.project_out((scores.softmax(dim=-1) @ v).reshape(x.shape))


@MODELS.register_module()
class SpatialSelfAttention(QKV):
    """Plain multi-head self-attention between pixels (softmax(qᵀk/√d) over H·W × H·W, the
    ablation Restormer compares MDTA with): memory quadratic in the pixel count, small crops only.
    1×1 projections, no depth-wise conv unless ``dconv``."""

    def __init__(self, dim: int, num_heads: int, bias: bool = False, dconv: bool = False):
        super().__init__(dim, num_heads, bias, dconv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = (t.transpose(-2, -1) for t in self.queries_keys_values(x))  # B×h×HW×c
        out = F.scaled_dot_product_attention(q, k, v)
        return self.project_out(out.transpose(-2, -1).reshape(x.shape))


@MODELS.register_module()
class GDFN(nn.Module):
    """Gated-Dconv Feed-forward Network: 1×1 to two ``hidden`` branches, 3×3 depth-wise conv,
    ``gelu(a) * b``, 1×1 back."""

    def __init__(self, dim: int, ffn_expansion_factor: float, bias: bool = False):
        super().__init__()
        hidden = int(dim * ffn_expansion_factor)
        self.project_in = nn.Conv2d(dim, hidden * 2, 1, bias=bias)
        self.dwconv = nn.Conv2d(hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2, bias=bias)
        self.project_out = nn.Conv2d(hidden, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, value = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(gate) * value)


@MODELS.register_module()
class ConvFFN(nn.Module):
    """Plain feed-forward network (the ablation baseline of GDFN/MSFN): 1×1 to ``hidden``, GELU,
    1×1 back."""

    def __init__(self, dim: int, ffn_expansion_factor: float, bias: bool = False):
        super().__init__()
        hidden = int(dim * ffn_expansion_factor)
        self.project_in = nn.Conv2d(dim, hidden, 1, bias=bias)
        self.project_out = nn.Conv2d(hidden, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project_out(F.gelu(self.project_in(x)))


class TransformerBlock(nn.Module):
    """``x + attn(norm1(x))``, then ``+ ffn(norm2(·))``; ``attention``/``ffn`` are config dicts."""

    def __init__(self, dim: int, num_heads: int, ffn_expansion_factor: float, bias: bool,
                 norm: str, attention: dict, ffn: dict):
        super().__init__()
        self.norm1 = ChannelNorm(dim, norm)
        self.attn = MODELS.build(dict(attention, dim=dim, num_heads=num_heads, bias=bias))
        self.norm2 = ChannelNorm(dim, norm)
        self.ffn = MODELS.build(dict(ffn, dim=dim, ffn_expansion_factor=ffn_expansion_factor,
                                     bias=bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class PatchEmbed(nn.Module):
    """Overlapped patch embedding: a 3×3 conv (``proj``)."""

    def __init__(self, in_channels: int, dim: int, bias: bool = False):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, 3, padding=1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class Resize(nn.Module):
    """3×3 conv then pixel-unshuffle (``down``: C -> 2C at half size) or pixel-shuffle (C -> C/2
    at double size)."""

    def __init__(self, dim: int, down: bool):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(dim, dim // 2 if down else dim * 2, 3, padding=1,
                                            bias=False),
                                  nn.PixelUnshuffle(2) if down else nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@MODELS.register_module()
class Restormer(Generator):
    """Restormer for deraining (the release's ``Deraining_Restormer.yml`` at defaults).

    Args:
        dim: channels of level 1 (levels 2-4: 2×, 4×, 8×).
        num_blocks: transformer blocks of levels 1-4 (encoder and decoder of a level alike).
        num_refinement_blocks: full-resolution blocks after the decoder; 0: no refinement stage.
        heads: attention heads of levels 1-4.
        ffn_expansion_factor: hidden width of the feed-forward networks, ×dim.
        bias: biases in the convolutions of the blocks.
        norm: ``'WithBias'`` (release) or ``'BiasFree'`` layer norm.
        attention: config of the attention (default ``dict(type='MDTA')``;
            ``SpatialSelfAttention``).
        ffn: config of the feed-forward network (default ``dict(type='GDFN')``; ``ConvFFN``).
        in_channels: input (and output) channels.
    """

    size_divisor = 8

    def __init__(self, dim: int = 48, num_blocks=(4, 6, 6, 8), num_refinement_blocks: int = 4,
                 heads=(1, 2, 4, 8), ffn_expansion_factor: float = 2.66, bias: bool = False,
                 norm: str = 'WithBias', attention: dict | None = None,
                 ffn: dict | None = None, in_channels: int = 3):
        super().__init__()
        attention = attention or dict(type='MDTA')
        ffn = ffn or dict(type='GDFN')

        def stage(width: int, level: int, count: int) -> nn.Sequential:
            return nn.Sequential(*[TransformerBlock(width, heads[level], ffn_expansion_factor,
                                                    bias, norm, attention, ffn)
                                   for _ in range(count)])

        self.patch_embed = PatchEmbed(in_channels, dim)
        self.encoder_level1 = stage(dim, 0, num_blocks[0])
        self.down1_2 = Resize(dim, down=True)
        self.encoder_level2 = stage(dim * 2, 1, num_blocks[1])
        self.down2_3 = Resize(dim * 2, down=True)
        self.encoder_level3 = stage(dim * 4, 2, num_blocks[2])
        self.down3_4 = Resize(dim * 4, down=True)
        self.latent = stage(dim * 8, 3, num_blocks[3])
        self.up4_3 = Resize(dim * 8, down=False)
        self.reduce_chan_level3 = nn.Conv2d(dim * 8, dim * 4, 1, bias=bias)
        self.decoder_level3 = stage(dim * 4, 2, num_blocks[2])
        self.up3_2 = Resize(dim * 4, down=False)
        self.reduce_chan_level2 = nn.Conv2d(dim * 4, dim * 2, 1, bias=bias)
        self.decoder_level2 = stage(dim * 2, 1, num_blocks[1])
        self.up2_1 = Resize(dim * 2, down=False)   # level 1 decodes at 2×dim, no reduction
        self.decoder_level1 = stage(dim * 2, 0, num_blocks[0])
        self.refinement = stage(dim * 2, 0, num_refinement_blocks)
        self.output = nn.Conv2d(dim * 2, in_channels, 3, padding=1, bias=bias)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Level-1 features entering the encoder."""
        return self.patch_embed(x)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        height, width = x.shape[-2:]
        if height % self.size_divisor or width % self.size_divisor:
            raise ValueError(f'{type(self).__name__} needs height and width divisible by '
                             f'{self.size_divisor}; got {height}x{width} (pad first)')
        enc1 = self.encoder_level1(self.embed(x))
        enc2 = self.encoder_level2(self.down1_2(enc1))
        enc3 = self.encoder_level3(self.down2_3(enc2))
        dec = self.latent(self.down3_4(enc3))
        dec = self.decoder_level3(self.reduce_chan_level3(torch.cat([self.up4_3(dec), enc3], 1)))
        dec = self.decoder_level2(self.reduce_chan_level2(torch.cat([self.up3_2(dec), enc2], 1)))
        dec = self.decoder_level1(torch.cat([self.up2_1(dec), enc1], 1))
        return [self.output(self.refinement(dec)) + x]

    @staticmethod
    def official_keys(state_dict: dict) -> dict:
        """The release's keys are ours (its files wrap them as ``{'params': ...}``)."""
        return dict(state_dict)
