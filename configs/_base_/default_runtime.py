# Runtime shared by every config: scope, logging, checkpoints, seed, provenance.
# Run directory (DerainRunner): <work_dir>/{config.py, env.json, epoch_*.pth, best_*.pth,
# last_checkpoint, logs/<timestamp>.log, logs/vis_data/scalars.json + TensorBoard events}.
default_scope = 'danet'

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # On a machine without CUDA, DerainRunner initialises torchrun processes with gloo instead.
    dist_cfg=dict(backend='nccl'))

# The released recipes seed with 1234. deterministic=True also forces deterministic kernels
# (on CUDA it needs CUBLAS_WORKSPACE_CONFIG=:4096:8); CPU runs are reproducible without it.
randomness = dict(seed=1234, deterministic=False, diff_rank_seed=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # keeps the last `max_keep_ckpts` epoch checkpoints plus the best one on the VALIDATION split
    # of the training data (metric key '<val testset>/<metric>', see the dataset config)
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=5, max_keep_ckpts=3,
                    save_last=True, save_best='val/psnr_y', rule='greater'))

# ProvenanceHook writes env.json; EpochSeedHook reseeds the main process from (seed, epoch, rank)
# so that --resume at an epoch boundary repeats an uninterrupted run's draws (engine/hooks.py).
custom_hooks = [dict(type='ProvenanceHook'), dict(type='EpochSeedHook')]

# Training options (danet/engine/options.py, docs/training.md "Training options"):
# amp: mixed precision (tools/train.py --amp): fp16 + loss scaling on CUDA, bf16 autocast on CPU.
amp = False
# ema: exponential moving average of the weights (MMEngine EMAHook, momentum 0.001 = BasicSR's
# decay 0.999); validation, test and the checkpoints' state_dict use the averaged weights.
ema = dict(enabled=False, momentum=0.001, begin_iter=0)
# gpu: applied only where CUDA is available (no-ops on CPU).
gpu = dict(cudnn_benchmark=False, channels_last=False, pin_memory=False, non_blocking=False,
           compile=False)
# Gradient clipping: optim_wrapper.clip_grad = dict(max_norm=...) (MMEngine's key).

log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
visualizer = dict(type='Visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
log_level = 'INFO'
load_from = None
resume = False
