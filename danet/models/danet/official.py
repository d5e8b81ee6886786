"""Map the authors' released DANet ``state_dict`` onto this package's ``DANet`` at defaults."""
import re

import torch

# (official key prefix pattern, our prefix); the first match wins, the rest of the key is kept.
_PREFIX_MAP = [
    (r'dsnet\.(shallow_feat1|shallow_feat2|fuse_conv)\.', r'dsnet.sampling.\1.'),
    (r'(dsnet|ssnet)\.orsnet\.orb\.body\.', r'\1.trunk.orsnet.body.'),
    (r'(dsnet|ssnet)\.(?:dsnnet|ssnnet)_encoder\.', r'\1.trunk.unet.encoder.'),
    (r'(dsnet|ssnet)\.(?:dsnnet|ssnnet)_decoder\.', r'\1.trunk.unet.decoder.'),
    (r'(dsnet|ssnet)\.S2FB_fuse\.', r'\1.trunk.fuse.'),
    (r'dsnet\.tail\.', r'dsnet.tail.'),
    (r'ssnet\.stem\.conv_stem0\.', r'ssnet.alm.image_conv.'),
    (r'ssnet\.stem\.conv_stem2\.', r'ssnet.alm.mask.conv.'),
    (r'ssnet\.stem\.conv_stem3\.', r'ssnet.alm.background_conv.'),
    (r'ssnet\.deep_conv\.', r'ssnet.reconstruction.deep_conv.'),
    (r'ssnet\.tail\.', r'ssnet.reconstruction.tail.'),
]
DEEP_CONV_KEY = 'ssnet.reconstruction.deep_conv.weight'


def shuffle_permutation(channels: int, factor: int = 2) -> torch.Tensor:
    """Index ``p`` with ``ours[k] = theirs[p[k]]`` for the authors' transposed pixel shuffle.

    Theirs reads ``out[c, 2h+i, 2w+j]`` from input channel ``4c + 2j + i``;
    torch's from ``4c + 2i + j``.
    """
    index = torch.arange(channels).view(-1, factor, factor)  # [c, i, j] -> 4c + 2i + j
    return index.transpose(1, 2).reshape(-1)  # at torch's slot (c, i, j): theirs' 4c + 2j + i


def _rename(key: str) -> str:
    for pattern, replacement in _PREFIX_MAP:
        renamed, hits = re.subn('^' + pattern, replacement, key)
        if hits:
            return renamed
    raise KeyError(f'official DANet key {key!r} matches no known module; is this a DANet '
                   f'checkpoint from kuijiang94/DANet?')


def from_official(state_dict: dict) -> dict:
    """Rename the released keys to ours and permute ``deep_conv`` for ``torch.pixel_shuffle``.

    Accepts keys with or without a ``module.`` prefix (DataParallel checkpoints). The shared PReLU
    keeps one key per CAB, as in the release, so the result loads with ``strict=True``.
    """
    converted = {}
    for key, value in state_dict.items():
        converted[_rename(key.removeprefix('module.'))] = value
    if DEEP_CONV_KEY not in converted:
        raise KeyError(f'official DANet state_dict lacks ssnet.deep_conv.weight '
                       f'(got {len(state_dict)} keys)')
    weight = converted[DEEP_CONV_KEY]
    converted[DEEP_CONV_KEY] = weight[shuffle_permutation(weight.shape[0])]
    return converted
