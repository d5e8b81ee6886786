"""The yardsticks for the benchmarks: plain re-statements of the authors' DANet and training step,
and of the authors' PReNet family (``ReferencePReNet``, from ``networks.py``).

Written from ``DANET_SPEC.md`` (§1 network, §2 losses, §3 optimiser), independent of
``danet.models``: every layer is a ``torch.nn.functional`` call on the *official* state-dict keys
(NCHW tensors, PyTorch's own kernel choice, one shared PReLU per sub-network, the authors'
transposed pixel shuffle, out-of-place adds except the CAB/ORB residuals the release adds in
place). ``tests/test_benchmarks/test_reference.py`` checks it against the golden outputs and loss.
"""
import torch
import torch.nn.functional as F

GAUSS5 = (0.05, 0.25, 0.4, 0.25, 0.05)
EPS = 1e-3


class ReferenceDANet:
    """``net(x) -> [final, background_half]`` from an official DANet ``state_dict``."""

    def __init__(self, state_dict: dict, requires_grad: bool = False):
        self.w = {k.removeprefix('module.'): v.detach().clone().requires_grad_(requires_grad)
                  for k, v in state_dict.items()}
        # the release stores each sub-network's single PReLU under every CAB that uses it
        self.act = {net: next(v for k, v in self.w.items()
                              if k.startswith(net) and k.endswith('body.1.weight') and v.ndim == 1)
                    for net in ('dsnet', 'ssnet')}
        self.prelu_keys = {k for k, v in self.w.items() if k.endswith('body.1.weight')
                           and v.ndim == 1}

    def parameters(self) -> list[torch.Tensor]:
        """Distinct trainable tensors (the shared PReLUs once each)."""
        return [v for k, v in self.w.items() if k not in self.prelu_keys] + list(self.act.values())

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        rain, background = self.dsnet(x)
        return [self.ssnet(x, rain, background), background]

    # layers ----------------------------------------------------------------------------------
    def conv(self, x, key, stride=1):
        weight = self.w[f'{key}.weight']
        return F.conv2d(x, weight, self.w.get(f'{key}.bias'), stride, weight.shape[-1] // 2)

    def ca(self, x, key):
        y = F.adaptive_avg_pool2d(x, 1)
        y = F.relu(self.conv(y, f'{key}.conv_du.0'))
        return x * torch.sigmoid(self.conv(y, f'{key}.conv_du.2'))

    def cab(self, x, key, net):
        y = self.conv(F.prelu(self.conv(x, f'{key}.body.0'), self.act[net]), f'{key}.body.2')
        y = self.ca(y, f'{key}.CA')
        y += x
        return y

    def dsc(self, x, key):
        weight, bias = self.w[f'{key}.depth_conv.weight'], self.w[f'{key}.depth_conv.bias']
        y = F.conv2d(x, weight, bias, 1, 1, 1, x.shape[1])
        return self.conv(y, f'{key}.point_conv')

    def s2fb2(self, x1, x2, key):
        return self.ca(self.dsc(torch.cat([x1, x2], 1), f'{key}.DSC'), f'{key}.CA_fea') + x1

    def s2fbp(self, x1, x2, x3, x4, key):
        y = self.dsc(torch.cat([x3, x4], 1), f'{key}.DSC1')
        y = self.dsc(torch.cat([x2, y], 1), f'{key}.DSC2')
        y = self.dsc(torch.cat([x1, y], 1), f'{key}.DSC3')
        return self.ca(y, f'{key}.CA_fea') + y

    def resample(self, x, key, scale):
        y = F.interpolate(x, scale_factor=scale, mode='bilinear', align_corners=False)
        return self.conv(y, f'{key}.{"down" if scale < 1 else "up"}.1')

    # sub-networks ----------------------------------------------------------------------------
    def orsnet(self, x, net):
        y = x
        for i in range(10):
            y = self.cab(y, f'{net}.orsnet.orb.body.{i}', net)
        y = self.conv(y, f'{net}.orsnet.orb.body.10')
        y += x
        return y

    def unet(self, x, net):
        enc, dec = f'{net}.{net[:2]}nnet_encoder', f'{net}.{net[:2]}nnet_decoder'
        feats = []
        for level in (1, 2, 3):
            x = self.resample(x, f'{enc}.down_stage{level}', 0.5)
            key = f'{enc}.encoder_level{level}'
            r = self.dsc(F.prelu(self.dsc(x, f'{key}.CAB1.body.0'), self.act[net]),
                         f'{key}.CAB1.body.2')
            e = self.s2fb2(self.ca(r, f'{key}.CAB1.CA'), x, f'{key}.CAB1.S2FB2')
            x = self.s2fb2(x, e, f'{key}.S2FB2')
            feats.append(x)
        e1, e2, e3 = feats

        def level(n, x, s1, s2, s3):
            key = f'{dec}.decoder_level{n}'
            d = self.s2fbp(x, s1, s2, s3, f'{key}.S2FB0')
            return self.s2fb2(d, self.cab(d, f'{key}.CAB1', net), f'{key}.S2FB2')

        d3 = level(3, e3, e3, self.resample(e2, f'{dec}.down_23', 0.5),
                   self.resample(e1, f'{dec}.down_13', 0.25))
        d2 = level(2, self.resample(d3, f'{dec}.up_stage3', 2), e2,
                   self.resample(e1, f'{dec}.down_12', 0.5), self.resample(e3, f'{dec}.up_32', 2))
        d1 = level(1, self.resample(d2, f'{dec}.up_stage2', 2), e1,
                   self.resample(e2, f'{dec}.up_21', 2), self.resample(e3, f'{dec}.up_31', 4))
        return self.resample(d1, f'{dec}.up_stage1', 2)

    def trunk(self, x, net):
        return self.s2fb2(self.orsnet(x, net), self.unet(x, net), f'{net}.S2FB_fuse')

    def dsnet(self, x):
        h, w = x.shape[-2] // 2, x.shape[-1] // 2
        half = F.interpolate(x, scale_factor=0.5, mode='bilinear', align_corners=False)
        quads = torch.cat([x[..., :h, :w], x[..., :h, w:], x[..., h:, :w], x[..., h:, w:]], 1)
        a = self.cab(self.conv(half, 'dsnet.shallow_feat1.0'), 'dsnet.shallow_feat1.1', 'dsnet')
        b = self.cab(self.conv(quads, 'dsnet.shallow_feat2.0'), 'dsnet.shallow_feat2.1', 'dsnet')
        rain = self.conv(self.trunk(self.conv(torch.cat([a, b], 1), 'dsnet.fuse_conv'),
                                    'dsnet'), 'dsnet.tail')
        return rain, half - rain

    def ssnet(self, x, rain, background):
        image = self.conv(x, 'ssnet.stem.conv_stem0', stride=2)
        feat = (image * torch.sigmoid(self.conv(rain, 'ssnet.stem.conv_stem2')) + image
                + self.conv(background, 'ssnet.stem.conv_stem3'))
        deep = self.conv(self.trunk(feat, 'ssnet'), 'ssnet.deep_conv')
        b, c4, h, w = deep.shape  # the authors' shuffle: out[c, 2h+i, 2w+j] = in[4c + 2j + i]
        shuffled = deep.view(b, c4 // 4, 2, 2, h, w).permute(0, 1, 4, 3, 5, 2)
        residual = self.conv(shuffled.reshape(b, c4 // 4, 2 * h, 2 * w), 'ssnet.tail')
        return residual + F.interpolate(background, scale_factor=2, mode='bilinear',
                                        align_corners=False)


# the training recipe (DANET_SPEC §2–3) ---------------------------------------------------------
def _fit(target, pred):
    if target.shape[-2:] == pred.shape[-2:]:
        return target
    return F.interpolate(target, size=pred.shape[-2:], mode='bilinear', align_corners=False)


def charbonnier(pred, target):
    return torch.sqrt((pred - _fit(target, pred)) ** 2 + EPS ** 2).mean()


def _gauss(x):
    k = torch.tensor(GAUSS5, dtype=x.dtype, device=x.device)
    kernel = torch.outer(k, k).expand(x.shape[1], 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode='replicate'), kernel, groups=x.shape[1])


def _laplacian(x):
    smooth = _gauss(x)
    holes = torch.zeros_like(smooth)
    holes[..., ::2, ::2] = smooth[..., ::2, ::2] * 4
    return x - _gauss(holes)


def edge(pred, target):
    return charbonnier(_laplacian(pred), _laplacian(_fit(target, pred)))


def ssim(a, b):
    g = torch.exp(-(torch.arange(11, dtype=a.dtype, device=a.device) - 5) ** 2 / (2 * 1.5 ** 2))
    g = g / g.sum()
    kernel = torch.outer(g, g).expand(a.shape[1], 1, 11, 11)

    def blur(x):
        return F.conv2d(x, kernel, padding=5, groups=a.shape[1])
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a ** 2, blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return (((2 * mu_a * mu_b + c1) * (2 * cov + c2))
            / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))).mean()


def recipe_loss(outputs: list[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
    """0.3·Char + 0.2·Edge on both outputs (background ×0.8) − 0.15·SSIM(final)."""
    final, background = outputs
    return (0.3 * (charbonnier(final, target) + 0.8 * charbonnier(background, target))
            + 0.2 * (edge(final, target) + 0.8 * edge(background, target))
            - 0.15 * ssim(final, target))


def reference_train_step(net: ReferenceDANet, optimizer: torch.optim.Optimizer):
    """``step(inputs, targets)``: the authors' loop body (forward, loss, backward, Adam)."""
    def step(inputs: torch.Tensor, targets: torch.Tensor) -> float:
        optimizer.zero_grad()
        loss = recipe_loss(net(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


# the authors' PReNet family (csdwren/PReNet networks.py) -------------------------------------
PRENET_ARCHS = {  # class -> (recurrent unit, one shared ResBlock, cat rainy input, add rainy)
    'PReNet': ('lstm', False, True, True), 'PRN': (None, False, True, True),
    'PReNet_r': ('lstm', True, True, True), 'PRN_r': (None, True, True, True),
    'PReNet_LSTM': ('lstm', False, True, False), 'PReNet_GRU': ('gru', False, True, False),
    'PReNet_x': ('lstm', False, False, False)}


class ReferencePReNet:
    """``net(x) -> (final, [stage outputs])`` of one ``networks.py`` class (``PRENET_ARCHS``)
    from its released ``state_dict``, as the authors wrote it: NCHW, one convolution per gate on
    ``torch.cat((x, h), 1)``, zero initial state, out-of-place activations and adds."""

    def __init__(self, state_dict: dict, arch: str = 'PReNet', stages: int = 6):
        if arch not in PRENET_ARCHS:
            raise ValueError(f'unknown PReNet class {arch!r}; choose from '
                             f'{", ".join(PRENET_ARCHS)}')
        self.w = {k.removeprefix('module.'): v.detach().clone() for k, v in state_dict.items()}
        self.arch, self.stages = arch, stages

    def conv(self, x, key):
        return F.conv2d(x, self.w[f'{key}.weight'], self.w[f'{key}.bias'], 1, 1)

    def __call__(self, rainy: torch.Tensor):
        recurrent, shared, cat_input, add_input = PRENET_ARCHS[self.arch]
        h = torch.zeros(rainy.shape[0], 32, *rainy.shape[-2:])
        c = torch.zeros_like(h)
        x, outputs = rainy, []
        for _ in range(self.stages):
            x = F.relu(self.conv(torch.cat((rainy, x), 1) if cat_input else x, 'conv0.0'))
            if recurrent == 'lstm':
                xh = torch.cat((x, h), 1)
                i = torch.sigmoid(self.conv(xh, 'conv_i.0'))
                f = torch.sigmoid(self.conv(xh, 'conv_f.0'))
                g = torch.tanh(self.conv(xh, 'conv_g.0'))
                o = torch.sigmoid(self.conv(xh, 'conv_o.0'))
                c = f * c + i * g
                x = h = o * torch.tanh(c)
            elif recurrent == 'gru':
                xh = torch.cat((x, h), 1)
                z = torch.sigmoid(self.conv(xh, 'conv_z.0'))
                b = torch.sigmoid(self.conv(xh, 'conv_b.0'))
                g = torch.tanh(self.conv(torch.cat((b * h, x), 1), 'conv_g.0'))
                x = h = (1 - z) * h + z * g
            for k in range(1, 6):
                key = 'res_conv1' if shared else f'res_conv{k}'
                y = F.relu(self.conv(F.relu(self.conv(x, f'{key}.0')), f'{key}.2'))
                x = F.relu(y + x)
            x = self.conv(x, 'conv.0')
            if add_input:
                x = x + rainy
            outputs.append(x)
        return x, outputs
