"""The DANet component study shrunk to the CPU smoke config: one seed, a few minutes on 2 cores."""
base = 'configs/danet/danet_smoke_cpu.py'
mode = 'one_at_a_time'
axes = {
    'model.generator.alm.type': [('w/o ALM', 'PlainALM')],
    'model.generator.alm.mask.type': [('parameter-free mask', 'RainMagnitudeMask')],
    'model.generator.sampling.type': [('w/o sampling space', 'NoSampling')],
}
seeds = [0]
testsets = ['Rain100L']
cfg_options = {'train_cfg.max_epochs': 2, 'train_cfg.val_interval': 2,
               'default_hooks.checkpoint.interval': 1}
flops_shape = [3, 64, 64]
