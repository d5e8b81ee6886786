"""Evaluate-only cells over PReNet's released weights, shared by the ``prenet_readme_*`` and
``prenet_protocols_*`` grid files (this module is not a grid file).

Each cell names a registered model and its converted checkpoint
(``tools/convert_checkpoint.py --prenet-release ... work_dirs/prenet_release``, or any folder
given as ``--weights-dir``: ``ablations.spec.weights_dir``)."""
from ablations.spec import weights_dir

RELEASE_DIR = 'work_dirs/prenet_release'
README_MODELS = (('PRN', 'PRN6'), ('PReNet', 'PReNet6'), ('PRN_r', 'PRN6_r'),
                 ('PReNet_r', 'PReNet6_r'))
EVALUATOR_INDEX = {'Rain100L': 0, 'Rain100H': 1}   # test_evaluator order of the PReNet configs


def readme_cells(testset: str, protocols: tuple[str, ...] = ()) -> list[dict]:
    """One cell per README model released for ``testset``; with ``protocols``, one per (model,
    protocol), the protocol set on that test set's evaluator."""
    folder = weights_dir(RELEASE_DIR)
    cells = [{'model.generator.type': model,
              'checkpoint': f'{folder}/{testset}_{weights}.pth'}
             for model, weights in README_MODELS]
    if not protocols:
        return cells
    key = f'test_evaluator.{EVALUATOR_INDEX[testset]}.metrics.0.protocol'
    return [dict(cell, **{key: protocol}) for cell in cells for protocol in protocols]
