"""End to end from the released weights: convert PReNet's release, run the committed README
grids (evaluate-only) through tools/test.py on a subset of Rain100L and Rain100H, compare every
image with the authors' own pipeline, then tabulate beside the quoted README values.

The reference (tests/data/prenet_authors_subset_scores.json) holds per-image PSNR/SSIM (Y) of the
uint8 images that the authors' ``networks.PReNet`` + ``test_PReNet.py`` I/O write for the same
images, run outside the repository (docs/reproductions.md). The full-set table is in the docs.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[1] / 'data' / 'prenet_authors_subset_scores.json'


def _run(argv, cwd):
    done = subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_prenet_readme_grids_reproduce_the_authors_outputs(shared_data, repo_root, tmp_path):
    reference = json.loads(REFERENCE.read_text())
    release = tmp_path / 'release'
    _run(['tools/convert_checkpoint.py', '--prenet-release',
          str(shared_data / 'released_weights' / 'PReNet'), str(release)], repo_root)
    work = tmp_path / 'work'
    for testset in ('Rain100L', 'Rain100H'):
        subset = tmp_path / testset
        for kind in ('rainy', 'clean'):
            (subset / kind).mkdir(parents=True)
            for name in reference['images']:
                (subset / kind / f'{name}.png').symlink_to(
                    shared_data / testset / kind / f'{name}.png')
        _run(['-m', 'data_tools', 'pack', str(subset), str(tmp_path / f'{testset}.h5')],
             repo_root)
        committed = repo_root / 'ablations' / f'prenet_readme_{testset.lower()}.py'
        index = 0 if testset == 'Rain100L' else 1
        grid = tmp_path / f'readme_{testset.lower()}.py'   # the committed grid, PReNet only
        grid.write_text(
            f'exec(open({str(committed)!r}).read())\n'
            f"include = [dict(c, checkpoint=c['checkpoint'].replace('work_dirs/prenet_release', "
            f"{str(release)!r})) for c in include if c['model.generator.type'] == 'PReNet']\n"
            f"cfg_options = {{'test_dataloader.{index}.dataset.ann_file': "
            f"{str(tmp_path / f'{testset}.h5')!r}, 'test_dataloader.{index}.num_workers': 0}}\n")
        _run(['-m', 'ablations', 'run', str(grid), '--work-root', str(work)], repo_root)
        results = list((work / grid.stem).glob(f'*/results/{testset}.json'))
        assert len(results) == 1
        data = json.loads(results[0].read_text())
        assert data['conventions']['protocol'] == 'prenet_matlab'
        ours = {row['name'].split('.')[0]: row for row in data['images']}
        for name, theirs in reference['scores'][testset].items():
            assert ours[name]['psnr_y'] == pytest.approx(theirs['psnr_y'], abs=0.01), name
            assert ours[name]['ssim_y'] == pytest.approx(theirs['ssim_y'], abs=1e-4), name

    table = _run(['-m', 'analysis', 'table', str(work), '--out-dir', str(tmp_path / 'tables')],
                 repo_root)
    assert 'PReNet (README)' in table and '29.46' in table and '37.48' in table
    assert any(line.startswith('| PReNet |') for line in table.splitlines())
