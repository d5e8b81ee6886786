# DANet (IJCAI 2022) as released: 2,943,138 parameters, outputs [final, half-res background].
# Swap a component with --cfg-options, e.g. model.generator.alm.type=PlainALM
# (components: docs/danet_components.md).
model = dict(
    type='RestorationModel',
    generator=dict(
        type='DANet',
        n_feat=64,
        num_cab=10,
        reduction=4,
        # PaperSampling | PixelUnshuffleSampling | NoSampling (full resolution, size divisor 8)
        sampling=dict(type='PaperSampling'),
        # DSNet trunk; each branch: orsnet ORSNetBranch | NoBranch, unet UNetBranch | NoBranch
        rain_trunk=dict(type='DualBranchTrunk',
                        orsnet=dict(type='ORSNetBranch'), unet=dict(type='UNetBranch')),
        # PaperALM | PlainALM (no association) | ConcatALM (1x1 conv over concatenated features);
        # mask (PaperALM only): LearnedMask | RainMagnitudeMask (parameter-free)
        alm=dict(type='PaperALM', mask=dict(type='LearnedMask')),
        # SSNet trunk: same choices as rain_trunk
        texture_trunk=dict(type='DualBranchTrunk',
                           orsnet=dict(type='ORSNetBranch'), unet=dict(type='UNetBranch')),
        # PixelShuffleReconstruction | BilinearReconstruction | TransposedConvReconstruction;
        # skip: BilinearBackgroundSkip | NoBackgroundSkip
        reconstruction=dict(type='PixelShuffleReconstruction',
                            skip=dict(type='BilinearBackgroundSkip'))),
    losses=[dict(type='CharbonnierLoss', name='char', outputs=[0], loss_weight=0.3),
            dict(type='EdgeLoss', name='edge', outputs=[0], loss_weight=0.2),
            dict(type='SSIMLoss', name='ssim', outputs=[0], loss_weight=0.15),  # returns -SSIM
            # the association constraint on the half-res background (output 1), one entry;
            # off (same keys, zero): model.losses.3.type=NoAssociationConstraint
            dict(type='BackgroundSupervision', output=1,
                 losses=[dict(type='CharbonnierLoss', name='assoc_char', loss_weight=0.24),
                         dict(type='EdgeLoss', name='assoc_edge', loss_weight=0.16)])],
    data_preprocessor=dict(type='RestorationDataPreprocessor'))
