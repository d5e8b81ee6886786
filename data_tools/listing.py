"""Find every packed dataset under a folder."""
import json
from pathlib import Path

from danet.datasets import h5format as fmt


def list_packed(root: str | Path) -> list[dict]:
    """One row per ``*.h5`` under ``root`` (hidden partial files excluded; a sharded set is
    listed once, by its index, with ``shards``); files that are not packed datasets, are
    damaged or miss a shard get an ``error`` (one line naming the file) instead of counts, and
    the listing goes on."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f'folder not found: {root}')
    rows, shard_files, opened = [], set(), {}
    paths = [p for p in sorted(root.rglob('*.h5')) if not p.name.startswith('.')]
    for path in paths:
        try:
            opened[path] = fmt.PackedFile(path)
            with opened[path].reading('its shard list'):
                shard_files |= {path.parent / s['file'] for s in opened[path].shards}
        except (ValueError, FileNotFoundError) as err:  # DamagedFileError is a ValueError
            opened[path] = err
    for path in paths:
        if path in shard_files:
            continue
        if isinstance(opened[path], Exception):
            rows.append({'path': str(path), 'error': str(opened[path])})
            continue
        attrs = opened[path].attrs
        opened[path].close()
        missing = [s['file'] for s in opened[path].shards
                   if not (path.parent / s['file']).is_file()]
        if missing:
            rows.append({'path': str(path), 'error': f'{path}: {len(missing)} shard(s) missing '
                         f'beside the index: {", ".join(missing)}'})
            continue
        rows.append({'path': str(path), 'rainy': attrs['num_rainy'], 'clean': attrs['num_clean'],
                     'layout': attrs['layout'], 'content_hash': attrs['content_hash'],
                     'source': attrs['source'],
                     'shards': len(json.loads(attrs.get('shards', '[]')))})
    return rows
