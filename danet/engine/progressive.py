"""``ProgressiveTrainLoop``: patch and batch sizes that change at given iterations
(Restormer's progressive learning), as an option of the epoch-based training loop."""
import numpy as np
from mmengine.runner.loops import EpochBasedTrainLoop

from danet.registry import LOOPS


@LOOPS.register_module()
class ProgressiveTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` training on ``batch`` random samples of each loaded batch, each
    randomly cropped to ``patch`` (the same window in input and ``gt_img``), by stage.

    As in Restormer, the dataloader delivers the largest batch at the largest patch (its
    ``batch_size`` and its pipeline's crop must be at least the stages' largest; each patch a
    multiple of the generator's ``size_divisor``) and each
    iteration takes what the current stage asks for. Draws use numpy's global RNG of the main
    process (reseeded per epoch by ``EpochSeedHook``), so runs repeat and resume exactly; the
    stage follows ``runner.iter``, restored on resume. ``train/patch`` and ``train/batch`` are
    logged each iteration.

    Args:
        stages: ``[dict(begin_iter=0, patch=128, batch=8), dict(begin_iter=92000, patch=160,
            batch=5), ...]``, ``begin_iter`` ascending from 0.
        (the rest as ``EpochBasedTrainLoop``)
    """

    def __init__(self, runner, dataloader, max_epochs: int, stages=(), val_begin: int = 1,
                 val_interval: int = 1, dynamic_intervals=None):
        super().__init__(runner, dataloader, max_epochs, val_begin, val_interval,
                         dynamic_intervals)
        self.stages = [dict(s) for s in stages]
        starts = [s.get('begin_iter') for s in self.stages]
        if not self.stages or starts[0] != 0 or starts != sorted(set(starts)) or any(
                not isinstance(s.get(k), int) or s[k] < 1 for s in self.stages
                for k in ('patch', 'batch')):
            raise ValueError(f'ProgressiveTrainLoop: stages must be a non-empty list of '
                             f'dict(begin_iter, patch, batch) with begin_iter strictly ascending '
                             f'from 0 and positive integer sizes; got {stages}')
        model = getattr(runner.model, 'module', runner.model)
        divisor = getattr(getattr(model, 'generator', None), 'size_divisor', 1)
        odd = [s['patch'] for s in self.stages if s['patch'] % divisor]
        if odd:
            raise ValueError(f'ProgressiveTrainLoop: stage patch(es) {odd} are not multiples of '
                             f'the generator\'s size_divisor {divisor}')
        largest = max(s['batch'] for s in self.stages)
        if self.dataloader.batch_size < largest:
            raise ValueError(f'ProgressiveTrainLoop: train_dataloader.batch_size '
                             f'{self.dataloader.batch_size} is smaller than the largest stage '
                             f'batch {largest}; set it to {largest}')

    def stage(self, iteration: int) -> dict:
        """The stage in force at ``iteration``."""
        return [s for s in self.stages if s['begin_iter'] <= iteration][-1]

    def run_iter(self, idx, data_batch) -> None:
        stage = self.stage(self._iter)
        self.runner.message_hub.update_scalar('train/patch', stage['patch'])
        self.runner.message_hub.update_scalar('train/batch', stage['batch'])
        super().run_iter(idx, shrink_batch(data_batch, stage['patch'], stage['batch']))


def shrink_batch(data_batch: dict, patch: int, batch: int) -> dict:
    """``batch`` random samples of a ``pseudo_collate`` batch, each cropped to a random
    ``patch``×``patch`` window (input and ``gt_img`` alike)."""
    inputs, samples = data_batch['inputs'], data_batch['data_samples']
    if not isinstance(inputs, list | tuple):
        raise TypeError('ProgressiveTrainLoop needs collate_fn=pseudo_collate (a list of images)')
    keep = sorted(np.random.choice(len(inputs), min(batch, len(inputs)), replace=False))
    out_inputs, out_samples = [], []
    for index in keep:
        image, sample = inputs[index], samples[index]
        height, width = image.shape[-2:]
        if height < patch or width < patch:
            raise ValueError(f'ProgressiveTrainLoop: a {height}x{width} training crop is smaller '
                             f'than the stage patch {patch}; make the pipeline crop at least '
                             'the largest stage patch')
        top = np.random.randint(0, height - patch + 1)
        left = np.random.randint(0, width - patch + 1)
        window = (slice(None), slice(top, top + patch), slice(left, left + patch))
        if 'gt_img' in sample:
            sample.gt_img = sample.gt_img[window]
        out_inputs.append(image[window])
        out_samples.append(sample)
    return dict(data_batch, inputs=out_inputs, data_samples=out_samples)
