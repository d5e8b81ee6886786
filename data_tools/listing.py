"""Find every packed dataset under a folder."""
from pathlib import Path

from danet.datasets import h5format as fmt


def list_packed(root: str | Path) -> list[dict]:
    """One row per ``*.h5`` under ``root`` (hidden partial files excluded); files that are not
    packed datasets get an ``error`` instead of counts."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f'folder not found: {root}')
    rows = []
    for path in sorted(root.rglob('*.h5')):
        if path.name.startswith('.'):
            continue
        try:
            attrs = fmt.PackedFile(path).attrs
        except ValueError as err:
            rows.append({'path': str(path), 'error': str(err)})
            continue
        rows.append({'path': str(path), 'rainy': attrs['num_rainy'], 'clean': attrs['num_clean'],
                     'layout': attrs['layout'], 'content_hash': attrs['content_hash'],
                     'source': attrs['source']})
    return rows
