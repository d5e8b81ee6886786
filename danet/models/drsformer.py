"""DRSformer (Chen et al., "Learning A Sparse Transformer Network for Effective Image Deraining",
CVPR 2023; cschenxiang/DRSformer ``basicsr/models/archs/DRSformer_arch.py``).

Restormer's four-level U-Net (``danet.models.restormer``) with sparse transformer blocks: top-k
sparse attention (``TopKSparseAttention``, TKSA) and the mixed-scale feed-forward network
(``MSFN``); no transformer refinement stage; instead a mixture-of-experts feature compensator
(``MEFC``) after the patch embedding (``encoder_level0``) and after the decoder
(``refinement``). The release trains Rain200L and SPA-Data without MEFC
(``DRSformer_arch_200L+SPA.py``): here that is ``mefc=dict(type='NoMEFC')``, not a second class.
Ablations as config entries: ``attention`` (TKSA and its ``keep`` fractions, or dense
``MDTA``), ``ffn`` (``MSFN``, ``GDFN`` or ``ConvFFN``), ``mefc`` (``MEFC`` or ``NoMEFC``).
33,655,424 parameters with MEFC, 32,610,304 without; the release's keys load after
``official_keys`` renames MEFC's parts.
"""
import re

import torch
import torch.nn.functional as F
from torch import nn

from danet.models.restormer import MDTA, Restormer
from danet.registry import MODELS


@MODELS.register_module()
class TopKSparseAttention(MDTA):
    """TKSA: MDTA's channel attention in which each query keeps only its ``k = C·num//den``
    largest logits (``-inf`` elsewhere) for each fraction ``num/den`` in ``keep``; the softmax
    outputs of the fractions are summed with learnt weights ``attn1``, ``attn2``, ... (0.2 at
    start). The release keeps 1/2, 2/3, 3/4 and 4/5 of the C channels of a head."""

    def __init__(self, dim: int, num_heads: int, bias: bool = False,
                 keep=((1, 2), (2, 3), (3, 4), (4, 5)), dconv: bool = True):
        super().__init__(dim, num_heads, bias, dconv)
        self.keep = [tuple(int(n) for n in fraction) for fraction in keep]
        channels = dim // num_heads
        if not self.keep or any(not 0 < channels * n // d <= channels for n, d in self.keep):
            raise ValueError(f'TopKSparseAttention: keep must be fractions (num, den) that keep '
                             f'1 to {channels} of {channels} channels; got {keep}')
        for index in range(len(self.keep)):
            setattr(self, f'attn{index + 1}', nn.Parameter(torch.tensor([0.2])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores, v = self.channel_scores(x)
        channels = scores.shape[-1]
        out = 0
        for index, (num, den) in enumerate(self.keep):
            top = scores.topk(channels * num // den, dim=-1).indices
            sparse = torch.full_like(scores, float('-inf')).scatter(-1, top, scores.gather(-1, top))
            out = out + (sparse.softmax(dim=-1) @ v) * getattr(self, f'attn{index + 1}')
        return self.project_out(out.reshape(x.shape))


@MODELS.register_module()
class MSFN(nn.Module):
    """Mixed-scale feed-forward network: 1×1 to 2·hidden; 3×3 and 5×5 depth-wise convs + ReLU,
    each split in halves; the first halves (3×3 | 5×5) through a grouped 3×3 conv + ReLU, the
    second halves through a grouped 5×5 conv + ReLU (2·hidden -> hidden each); 1×1 back from their
    concatenation."""

    def __init__(self, dim: int, ffn_expansion_factor: float, bias: bool = False):
        super().__init__()
        hidden = int(dim * ffn_expansion_factor)
        self.project_in = nn.Conv2d(dim, hidden * 2, 1, bias=bias)
        for k in (3, 5):
            setattr(self, f'dwconv{k}x{k}', nn.Conv2d(hidden * 2, hidden * 2, k, padding=k // 2,
                                                      groups=hidden * 2, bias=bias))
            setattr(self, f'dwconv{k}x{k}_1', nn.Conv2d(hidden * 2, hidden, k, padding=k // 2,
                                                        groups=hidden, bias=bias))
        self.project_out = nn.Conv2d(hidden * 2, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.project_in(x)
        a3, b3 = F.relu(self.dwconv3x3(x)).chunk(2, dim=1)
        a5, b5 = F.relu(self.dwconv5x5(x)).chunk(2, dim=1)
        first = F.relu(self.dwconv3x3_1(torch.cat([a3, a5], dim=1)))
        second = F.relu(self.dwconv5x5_1(torch.cat([b3, b5], dim=1)))
        return self.project_out(torch.cat([first, second], dim=1))


def _separable(channels: int, kernel: int, dilation: int = 1) -> list[nn.Module]:
    """Depth-wise ``kernel``×``kernel`` (dilated) conv then 1×1 conv, bias-free, 'same' size."""
    return [nn.Conv2d(channels, channels, kernel, padding=dilation * (kernel // 2),
                      dilation=dilation, groups=channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False)]


def experts(channels: int) -> nn.ModuleList:
    """MEFC's eight experts, in the release's order: separable convs 1/3/5/7 (each twice with a
    ReLU between), dilated (2) separable convs 3/5/7, and 3×3 average pooling."""
    ops = [nn.Sequential(*_separable(channels, k), nn.ReLU(), *_separable(channels, k))
           for k in (1, 3, 5, 7)]
    ops += [nn.Sequential(*_separable(channels, k, dilation=2)) for k in (3, 5, 7)]
    ops.append(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False))
    return nn.ModuleList(ops)


class ExpertStep(nn.Module):
    """One step: every expert's output times its routing weight, concatenated, fused by a 1×1
    conv + ReLU (``fuse``)."""

    def __init__(self, channels: int):
        super().__init__()
        self.experts = experts(channels)
        self.fuse = nn.Sequential(nn.Conv2d(channels * len(self.experts), channels, 1,
                                            bias=False), nn.ReLU())

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``weights``: B×experts."""
        return self.fuse(torch.cat([op(x) * weights[:, i, None, None, None]
                                    for i, op in enumerate(self.experts)], dim=1))


@MODELS.register_module()
class MEFC(nn.Module):
    """Mixture-of-experts feature compensator: a router (global average pool, two linear layers)
    gives per-image softmax weights over the experts for each of ``steps`` steps; the features go
    through a 1×1 conv + ReLU (``entry``), then each step ``relu(step(x, weights) + x)``."""

    def __init__(self, dim: int, steps: int = 4):
        super().__init__()
        self.steps = nn.ModuleList(ExpertStep(dim) for _ in range(steps))
        routes = steps * len(self.steps[0].experts)
        self.router = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.router_fc = nn.Sequential(nn.Linear(dim, routes * 2), nn.ReLU(),
                                       nn.Linear(routes * 2, routes))
        self.entry = nn.Sequential(nn.Conv2d(dim, dim, 1, bias=False), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.router_fc(self.router(x)).view(len(x), len(self.steps), -1).softmax(-1)
        x = self.entry(x)
        for index, step in enumerate(self.steps):
            x = F.relu(step(x, weights[:, index]) + x)
        return x


@MODELS.register_module()
class NoMEFC(nn.Identity):
    """The "off" variant of ``MEFC`` (same arguments, ignored): no module, no parameters."""

    def __init__(self, dim: int, steps: int = 4):
        super().__init__()


# the release's MEFC keys (its ``subnet``: layers.0 the router, layers.1 the steps) -> ours
MEFC_KEYS = ((r'\.layers\.0\.ca_fc\.', '.router_fc.'),
             (r'\.layers\.1\.preprocess\.op\.0\.', '.entry.0.'),
             (r'\.layers\.1\._ops\.(\d+)\._ops\.(\d+)\.op\.', r'.steps.\1.experts.\2.'),
             (r'\.layers\.1\._ops\.(\d+)\._out\.', r'.steps.\1.fuse.'))


@MODELS.register_module()
class DRSformer(Restormer):
    """DRSformer for deraining (the release's ``Options/Deraining.yml`` at defaults).

    Args:
        mefc: config of the feature compensator used after the patch embedding and after the
            decoder (default ``dict(type='MEFC')``); ``dict(type='NoMEFC')``: the release's
            Rain200L/SPA-Data variant without it.
        attention: default ``dict(type='TopKSparseAttention')``; dense: ``dict(type='MDTA')``.
        ffn: default ``dict(type='MSFN')``; ``GDFN`` or ``ConvFFN``.
        (the rest as ``Restormer``; no transformer refinement stage)
    """

    def __init__(self, dim: int = 48, num_blocks=(4, 6, 6, 8), heads=(1, 2, 4, 8),
                 ffn_expansion_factor: float = 2.66, bias: bool = False, norm: str = 'WithBias',
                 attention: dict | None = None, ffn: dict | None = None,
                 mefc: dict | None = None,
                 in_channels: int = 3):
        super().__init__(dim, num_blocks, 0, heads, ffn_expansion_factor, bias, norm,
                         attention or dict(type='TopKSparseAttention'), ffn or dict(type='MSFN'),
                         in_channels)
        mefc = mefc or dict(type='MEFC')
        if MODELS.get(mefc['type']) is not NoMEFC:
            self.encoder_level0 = MODELS.build(dict(mefc, dim=dim))
            self.refinement = MODELS.build(dict(mefc, dim=dim * 2))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        return self.encoder_level0(x) if hasattr(self, 'encoder_level0') else x

    def mismatch_hint(self, state: dict) -> str | None:
        """Which release variant a refused file is, when it is the other one."""
        has_mefc = any(k.startswith('encoder_level0.') for k in state)
        if has_mefc == hasattr(self, 'encoder_level0'):
            return None
        return ('The file is DRSformer ' + ('with' if has_mefc else 'without') + ' MEFC (the '
                'release\'s ' + ('DRSformer_arch.py: Rain200H, DID, DDN' if has_mefc else
                                  'DRSformer_arch_200L+SPA.py: Rain200L, SPA-Data')
                + '), the model ' + ('without' if has_mefc else 'with') + ' it: convert with '
                + ('--arch drsformer or configs/drsformer/drsformer_4xb4-2679e_rain200h.py'
                   if has_mefc else
                   '--config configs/drsformer/drsformer_no-mefc_4xb4-2679e_rain200l.py'))

    @staticmethod
    def official_keys(state_dict: dict) -> dict:
        """Rename the release's MEFC keys (``MEFC_KEYS``); the rest are ours already."""
        renamed = {}
        for key, value in state_dict.items():
            for pattern, replacement in MEFC_KEYS:
                key = re.sub(pattern, replacement, key)
            renamed[key] = value
        return renamed
