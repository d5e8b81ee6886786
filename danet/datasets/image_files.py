"""Image folders: the known layouts, pairing by file name, and the one decoder to uint8 RGB.

A layout maps a source folder to *groups*: one clean image (or none, for rainy-only sets of
real photos) and the rainy images rendered from it. Pairing is always by name, never by
sorted position. Files whose name starts with ``.`` are ignored (``.DS_Store`` and the like).
"""
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from mmengine import fileio
from PIL import Image, UnidentifiedImageError

LAYOUTS = ('pairs', 'mprnet', 'prenet', 'rain1400', 'reside', 'lol', 'list')
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.gif')
EXIF_ORIENTATION = 0x0112
# EXIF orientation -> the H×W(×C) array as a viewer shows it (Pillow's ``ImageOps.exif_transpose``)
_APPLIED = re.compile(r'EXIF orientation (\d) applied')
_ORIENT = {
    2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1), 8: lambda a: np.rot90(a),
}
# The degraded-input folder each task's synthesis writes (``data_tools synth --task``) → what the
# tables and figures call that input.
INPUT_NAMES = {'rainy': 'Rainy input', 'hazy': 'Hazy input', 'low': 'Low-light input'}
# For each layout with degraded/clean sub-folders: accepted folder names, first match wins.
_FOLDERS = {
    'pairs': (tuple(INPUT_NAMES), ('clean',)),
    'mprnet': (('input',), ('target',)),
    'rain1400': (('rainy_image', 'rainy'), ('ground_truth', 'clean')),
    'reside': (('hazy',), ('clear', 'GT', 'gt', 'clean')),
    'lol': (('low',), ('high',)),
}
_PRENET = re.compile(r'^(no)?rain-(\d+)\.\w+$')
# many-to-one layouts: the clean stem of a degraded file's stem (path without suffix)
_MANY_TO_ONE = {'rain1400': re.compile(r'^(.+)_(\d+)$'),      # ID_K -> ID
                'reside': re.compile(r'^(.*?[^/_]+)_[^/]+$')}   # ID_A_B -> ID (first '_')
PAIRING = {
    'pairs': 'SRC/{rainy|hazy|low}/NAME <-> SRC/clean/NAME (same relative name)',
    'mprnet': 'SRC/input/NAME <-> SRC/target/NAME (same relative name)',
    'prenet': 'rain-K.* <-> norain-K.* in the same folder',
    'rain1400': 'SRC/{rainy_image|rainy}/ID_K.* <-> SRC/{ground_truth|clean}/ID.* '
                '(many to one: the stem before the last _)',
    'reside': 'SRC/hazy/ID_A_B.* <-> SRC/{clear|GT|gt|clean}/ID.* '
              '(many to one: the stem before the first _)',
    'lol': 'SRC/low/NAME <-> SRC/high/NAME (same relative name)',
    'list': 'each line of the list file: RAINY CLEAN, paths relative to SRC (many to one '
            'when lines share a clean path)',
}


def pairing_rule(layout: str) -> str:
    """How ``layout`` pairs degraded and clean images (recorded in the dataset card)."""
    return PAIRING[layout]


class BadInputError(ValueError):
    """Input images that cannot be packed or read; ``problems`` lists ``(path, reason)``."""

    def __init__(self, problems: list[tuple[str, str]], header: str = 'bad input'):
        self.problems = problems
        lines = '\n'.join(f'  {path}: {reason}' for path, reason in problems)
        super().__init__(f'{header} ({len(problems)} file(s)):\n{lines}')


@dataclass
class Group:
    """One background: its clean image path (None for rainy-only sets) and the rainy
    images made from it, as ``(name, path)`` with ``name`` the rainy path relative to the source."""
    clean: Path | None
    rainy: list[tuple[str, Path]] = field(default_factory=list)


def list_images(folder: str | Path) -> list[Path]:
    """The image files (by suffix) directly in ``folder``, sorted, hidden files skipped."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and not p.name.startswith('.')
                  and p.suffix.lower() in IMAGE_SUFFIXES)


def shown(path) -> str:
    """``path`` printable whatever its bytes (a name that is not UTF-8 shows ``\\xNN``)."""
    return os.fsencode(str(path)).decode('utf-8', 'backslashreplace')


def _scan(folder: Path) -> tuple[dict[str, Path], list[tuple[str, str]]]:
    """Non-hidden files under ``folder`` (recursively), keyed by their relative path, and the
    entries that cannot be packed: dangling symbolic links, names that are not UTF-8."""
    found, problems = {}, []
    for path in sorted(folder.rglob('*')):
        name = path.relative_to(folder).as_posix()
        if any(part.startswith('.') for part in name.split('/')):
            continue
        if path.is_symlink() and not path.exists():
            problems.append((shown(path), f'dangling symbolic link (its target '
                                          f'{shown(os.readlink(path))} does not exist)'))
        elif path.is_file():
            try:
                name.encode('utf-8')
            except UnicodeEncodeError:
                problems.append((shown(path), 'file name is not UTF-8 (the manifest stores '
                                              'names as UTF-8): rename it'))
                continue
            found[name] = path
    return found, problems


def _pick(src: Path, names: tuple[str, ...]) -> Path | None:
    return next((src / n for n in names if (src / n).is_dir()), None)


def discover(src: str | Path, layout: str, list_file: str | Path | None = None
             ) -> tuple[list[Group], list[tuple[str, str]]]:
    """Groups of a source folder in ``layout`` and the problems found (unpaired files, empty
    folders). A layout whose clean folder is absent yields a rainy-only set. ``list`` reads
    its pairs from ``list_file`` (SPA-Data's ``real_world.txt`` style)."""
    src = Path(src)
    if layout not in LAYOUTS:
        raise ValueError(f'unknown layout {layout!r}; choose one of {", ".join(LAYOUTS)}')
    if not src.is_dir():
        raise FileNotFoundError(f'source folder not found: {src}')
    if (layout == 'list') != (list_file is not None):
        raise ValueError('--list FILE goes with --layout list, and only with it')
    if layout == 'prenet':
        return _discover_prenet(src)
    if layout == 'list':
        return _discover_list(src, Path(list_file))
    rainy_names, clean_names = _FOLDERS[layout]
    rainy_dir, clean_dir = _pick(src, rainy_names), _pick(src, clean_names)
    if rainy_dir is None:
        raise FileNotFoundError(
            f'{src}: no rainy folder (expected one of {", ".join(rainy_names)})')
    rainy, unusable = _scan(rainy_dir)
    if not rainy:
        return [], unusable + [(str(rainy_dir), 'empty folder: no images')]
    if clean_dir is None:
        return [Group(None, [(n, p)]) for n, p in rainy.items()], unusable
    clean, more = _scan(clean_dir)
    unusable += more
    if not clean:
        return [], unusable + [(str(clean_dir), 'empty folder: no images')]
    if layout in _MANY_TO_ONE:
        groups, problems = _group_many_to_one(rainy, clean, _MANY_TO_ONE[layout])
        return groups, unusable + problems
    problems = [(str(p), 'no partner in ' + str(clean_dir)) for n, p in rainy.items()
                if n not in clean]
    problems += [(str(p), 'no partner in ' + str(rainy_dir)) for n, p in clean.items()
                 if n not in rainy]
    groups = [Group(clean[n], [(n, p)]) for n, p in rainy.items() if n in clean]
    return groups, unusable + problems


def detect_layout(src: str | Path) -> str:
    """The first layout of ``LAYOUTS`` (but ``list``, which needs its list file) in which ``src``
    reads as pairs without problems; ``ValueError`` saying why each layout failed."""
    reasons = []
    for layout in (name for name in LAYOUTS if name != 'list'):
        try:
            groups, problems = discover(src, layout)
        except FileNotFoundError as err:
            if not Path(src).is_dir():
                raise
            reasons.append(f'{layout}: {err}')
            continue
        if groups and not problems and all(g.clean is not None for g in groups):
            return layout
        reasons.append(f'{layout}: ' + (f'{len(problems)} unpaired file(s), e.g. '
                                        f'{problems[0][0]}' if problems else 'no clean images'))
    raise ValueError(f'{src}: not a folder of pairs in any known layout:\n  ' +
                     '\n  '.join(reasons))


def _group_many_to_one(rainy: dict[str, Path], clean: dict[str, Path], rule: re.Pattern):
    stems: dict[str, list[Path]] = {}
    for name, path in clean.items():
        stems.setdefault(str(Path(name).with_suffix('')), []).append(path)
    ambiguous = {s: ps for s, ps in stems.items() if len(ps) > 1}
    problems = [(str(p), f'clean images {", ".join(q.name for q in ps)} share the stem {s}: '
                         'which one the degraded images pair with is ambiguous (rename one)')
                for s, ps in ambiguous.items() for p in ps]
    by_stem = {s: ps[0] for s, ps in stems.items() if s not in ambiguous}
    groups: dict[str, Group] = {}
    for name, path in rainy.items():
        match = rule.match(str(Path(name).with_suffix('')))
        stem = match.group(1) if match else None
        if stem in ambiguous:
            problems.append((str(path), f'its clean image {stem}.* is ambiguous '
                                        f'({", ".join(q.name for q in ambiguous[stem])})'))
            continue
        if stem not in by_stem:
            problems.append((str(path), f'no clean image {stem or "ID"}.* for it'))
            continue
        groups.setdefault(stem, Group(by_stem[stem])).rainy.append((name, path))
    problems += [(str(p), 'clean image without any degraded image') for s, p in by_stem.items()
                 if s not in groups]
    return list(groups.values()), problems


def read_list_file(list_file: Path) -> list[str]:
    """The lines of a UTF-8 list file (a leading byte-order mark dropped); ``ValueError``
    naming the file and the first byte that is not UTF-8."""
    if not list_file.is_file():
        raise FileNotFoundError(f'list file not found: {list_file}')
    data = list_file.read_bytes()
    try:
        return data.decode('utf-8-sig').splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f'{list_file}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset '
                         f'{err.start}); save the list as UTF-8') from None


def _discover_list(src: Path, list_file: Path):
    """Pairs from a text file of ``RAINY CLEAN`` lines (paths relative to ``src``). A pair
    listed twice, or a rainy image listed with two clean images, is a problem of its line."""
    groups: dict[str, Group] = {}
    problems, partner = [], {}
    for number, line in enumerate(read_list_file(list_file), 1):
        fields = line.split()
        where = f'{list_file}:{number}'
        if not fields:
            continue
        if len(fields) != 2:
            problems.append((where, f'expected "RAINY CLEAN", got {line!r}'))
            continue
        if '\ufeff' in line:
            problems.append((where, 'contains a byte-order mark (U+FEFF) inside the line'))
            continue
        rainy, clean = (src / f.lstrip('/') for f in fields)
        missing = [str(p) for p in (rainy, clean) if not p.is_file()]
        if missing:
            problems.append((where, f'no such file: {", ".join(missing)}'))
            continue
        if rainy in partner:
            first, earlier = partner[rainy]
            problems.append((where, f'repeats the pair of line {earlier}' if first == clean else
                             f'{fields[0]} is paired with {first.relative_to(src)} on line '
                             f'{earlier} and with {fields[1]} here'))
            continue
        partner[rainy] = clean, number
        groups.setdefault(str(clean), Group(clean)).rainy.append(
            (rainy.relative_to(src).as_posix(), rainy))
    if not groups and not problems:
        problems.append((str(list_file), 'empty list: no pairs'))
    return list(groups.values()), problems


def _discover_prenet(src: Path):
    files, problems = _scan(src)
    if not files:
        return [], problems + [(str(src), 'empty folder: no images')]
    rainy, clean = {}, {}
    for name, path in files.items():
        match = _PRENET.match(path.name)
        if match is None:
            problems.append((str(path), 'name is neither rain-K.* nor norain-K.*'))
            continue
        side = clean if match.group(1) else rainy
        key = (str(Path(name).parent), int(match.group(2)))
        if key in side:
            problems.append((str(path), f'{side[key][1].name} has the same number: which one '
                                        'pairs is ambiguous (rename one)'))
            continue
        side[key] = (name, path)
    problems += [(str(p), 'no norain-K partner') for k, (_, p) in rainy.items() if k not in clean]
    problems += [(str(p), 'no rain-K partner') for k, (_, p) in clean.items() if k not in rainy]
    groups = [Group(clean[k][1], [rainy[k]]) for k in rainy if k in clean]
    return groups, problems


# Modes PIL converts to RGB by the rules of decode_rgb (alpha dropped, palette looked up, CMYK by
# PIL's plain conversion, gray replicated to three channels).
_CONVERTIBLE = ('L', '1', 'P', 'PA', 'LA', 'La', 'RGBA', 'RGBa', 'RGBX', 'CMYK', 'YCbCr')


def decode_rgb(path: str | Path, convert: bool = False,
               orient: bool = False) -> tuple[np.ndarray, str | None]:
    """Decode an image file to a uint8 H×W×3 RGB array and the conversion applied (or None).

    The one decoder of every image the platform reads (packing, folder datasets, derain, folder
    evaluation, analysis figures, synthesis). 8-bit RGB decodes as is; anything else raises
    ``ValueError`` unless ``convert`` is true, and then follows these rules:

    * 16-bit (gray ``I;16``/``I``, RGB or RGBA ``;16`` PNG/TIFF): keep the high byte
      (``v >> 8``, as OpenCV's ``imread`` does; a 0..65535 ramp maps linearly onto 0..255),
      gray replicated to three channels, alpha dropped; 32-bit ``I`` values are clipped to
      0..65535 first;
    * gray (``L``), bilevel (``1``): replicated to three channels;
    * palette (``P``, ``PA``): colours looked up in the palette, transparency dropped;
    * alpha (``RGBA``, ``LA``): alpha dropped (not composited);
    * ``CMYK``, ``YCbCr``: PIL's conversion to RGB (no colour profile applied);
    * floating-point (``F``) and other modes are refused: they have no defined 8-bit scale.

    Pixels are taken as stored (EXIF orientation is not applied: datasets, evaluation and MATLAB's
    ``imread`` read them so) unless ``orient`` is true, and then the EXIF orientation is applied as
    image viewers do (``derain``, ``synth``: outputs people look at). An animated or multi-frame
    file is refused, and so is a file that is not an image (``ValueError``). The returned note
    names the source kind and the orientation applied, e.g. ``'I;16 16-bit->RGB'``,
    ``'EXIF orientation 6 applied'``.

    The file is read with ``mmengine.fileio.get`` (any MMEngine file backend) and decoded by
    mmcv's ``imfrombytes`` (Pillow backend, ``color_ignore_orientation``, RGB order) wherever
    that does what these rules say: 8-bit RGB and every convertible mode but two. Our own rules
    remain for 16/32-bit ``I`` (mmcv's Pillow conversion clips at 255 instead of keeping the
    high byte) and ``LA`` (mmcv composites it over a fixed colour instead of dropping alpha);
    mmcv cannot report the stored mode, so PIL reads the header first (for the refusals and
    the note).
    """
    content = fileio.get(path)
    try:
        img = Image.open(io.BytesIO(content))
    except (UnidentifiedImageError, OSError):  # PIL names the buffer, not the file
        raise ValueError(f'{Path(path).name}: not an image file Pillow can identify (corrupt, '
                         'truncated or another format)') from None
    orientation = img.getexif().get(EXIF_ORIENTATION, 1) if orient else 1
    pixels, note = _decode(img, content, convert)
    if orientation not in _ORIENT:
        return pixels, note
    applied = f'EXIF orientation {orientation} applied'          # read by applied_orientation
    upright = np.ascontiguousarray(_ORIENT[orientation](pixels))
    return upright, f"{note}, {applied}" if note else applied


def applied_orientation(note: str | None) -> int:
    """The EXIF orientation that ``decode_rgb(..., orient=True)`` applied (its note), else 1."""
    found = _APPLIED.search(note or '')
    return int(found.group(1)) if found else 1


def _decode(img: Image.Image, content: bytes, convert: bool) -> tuple[np.ndarray, str | None]:
    """``decode_rgb``'s rules on an opened image (closed on return)."""
    with img:
        frames = getattr(img, 'n_frames', 1)
        if frames > 1:
            raise ValueError(f'animated or multi-frame image ({frames} frames): save the frame '
                             'to use as a PNG')
        raw_mode = img.tile[0].args if img.tile and isinstance(img.tile[0].args, str) else ''
        if img.tile and isinstance(img.tile[0].args, tuple) and img.tile[0].args:
            raw_mode = str(img.tile[0].args[0])
        sixteen = ';16' in raw_mode or img.mode.startswith('I')
        if img.mode == 'RGB' and not sixteen:
            return _mmcv_rgb(content), None
        kind = f'{img.mode}{" 16-bit" if sixteen else ""}'
        if not convert:
            raise ValueError(f'{kind} image, not 8-bit RGB (pass --convert to convert it)')
        if img.mode.startswith('I'):
            wide = np.clip(np.asarray(img).astype(np.int64), 0, 65535)
            gray = (wide >> 8).astype(np.uint8)
            return np.repeat(gray[..., None], 3, axis=2), f'{kind}->RGB'
        if img.mode not in _CONVERTIBLE and img.mode != 'RGB':
            raise ValueError(f'{kind} image: no rule to convert it to 8-bit RGB '
                             '(save it as 8- or 16-bit gray or RGB)')
        if img.mode == 'LA':
            return np.asarray(img.convert('RGB')), f'{kind}->RGB'
    return _mmcv_rgb(content), f'{kind}->RGB'


def _mmcv_rgb(content: bytes) -> np.ndarray:
    """mmcv's Pillow decode to H×W×3 uint8 RGB, EXIF orientation ignored (imported here: mmcv
    loads torch, which modules that only list images do not need)."""
    from mmcv import imfrombytes
    return imfrombytes(content, flag='color_ignore_orientation', channel_order='rgb',
                       backend='pillow')


def decode_png(data: np.ndarray) -> np.ndarray:
    """Stored PNG bytes → uint8 H×W×3 RGB (the loader's decode of ``encoded`` storage), pixels
    as stored: an EXIF orientation in the bytes is ignored, as ``decode_rgb`` ignores it."""
    img = cv2.imdecode(np.asarray(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        raise ValueError('stored image bytes do not decode as PNG')
    return np.ascontiguousarray(img[..., ::-1])
