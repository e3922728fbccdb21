#!/usr/bin/python3
"""PyTorch peer of ExitLab's fgsm-me training step on the reference CIFAR MSDNet (CPU).

Run by `npm run bench` with Debian's python3-torch (`/usr/bin/python3`):

    /usr/bin/python3 test/bench/msdnet_reference.py --threads 1,2 --steps 3 --batch 64

Prints one JSON object on stdout: the network's MACs per image (counted from the shapes the
convolutions and linear layers actually produce, so the bench can check them against ExitLab's
net.summary.macs) and, per thread count, the median step time.

The network mirrors src-main/engine/model/msdnet.ts with the default ModelConfigSchema of
src-shared/config.ts (7 blocks, step 2, base 4, 16 channels, growth 6, 3 scales, growth and
bottleneck factors 1-2-4, bottleneck, reduction 0.5, 128 classifier channels, every block an exit).
One known difference: ExitLab's `same` padding of a strided 3x3 convolution pads only bottom/right
(TensorFlow's rule), this script pads 1 on every side (PyTorch's and the MSDNet authors' rule).
Shapes and MACs are identical; only which pixels the kernel is centred on differs.

The step is ExitLab's fgsm-me: FGSM against the mean of the exits' cross-entropies, no random
start, eps = alpha = 8/255, batch norm in training mode while attacking and training; then the sum
of the exits' mean cross-entropies plus sum_i lambda_i * ||W_fc,i||^2 (the paper's lambdas), and
SGD with momentum 0.9 and weight decay 5e-4 (torch.optim.SGD, which ExitLab's optimizer copies).
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = dict(blocks=7, step=2, base=4, channels=16, growth_rate=6, scales=3,
              growth_factor=[1, 2, 4], bottleneck_factor=[1, 2, 4], bottleneck=True,
              reduction=0.5, classifier_channels=128)
MEAN = [0.49, 0.48, 0.45]
STD = [0.25, 0.24, 0.26]


class ConvBnRelu(nn.Sequential):
    def __init__(self, cin, cout, kernel, stride):
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, bias=False),
            # PyTorch's momentum 0.1 is Keras's 0.9, as ExitLab sets it.
            nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1),
            nn.ReLU(inplace=True),
        )


class ConvBn(nn.Sequential):
    """Conv on one input scale: optional 1x1 bottleneck to at most bn_width * nout, then 3x3."""

    def __init__(self, cin, nout, stride, bottleneck, bn_width):
        layers = []
        if bottleneck:
            mid = min(cin, bn_width * nout)
            layers.append(ConvBnRelu(cin, mid, 1, 1))
            cin = mid
        layers.append(ConvBnRelu(cin, nout, 3, stride))
        super().__init__(*layers)


def pruned_scales(n, total_layers, scales):
    """Scales entering and leaving global layer n (1-based) under "prune max"."""
    interval = math.ceil(total_layers / scales)
    return scales - (max(0, n - 2) // interval), scales - ((n - 1) // interval)


class DenseLayer(nn.Module):
    """One multi-scale dense layer: per output scale, concat(input, strided conv from the finer
    scale, conv at the same scale); then, where a scale is dropped, 1x1 transitions."""

    def __init__(self, channels_in, n, total_layers, cfg, n_in_next):
        super().__init__()
        S = cfg['scales']
        gr = cfg['growth_factor']
        bnf = cfg['bottleneck_factor']
        in_scales, out_scales = pruned_scales(n, total_layers, S)
        self.offset = S - out_scales
        self.discard = in_scales - out_scales
        self.first = S - in_scales
        self.branches = nn.ModuleList()
        channels_out = []
        for o in range(out_scales):
            s = self.offset + o
            cin = channels_in[s - self.first]
            nout = cfg['growth_rate'] * gr[s]
            if o == 0 and self.discard == 0:
                self.branches.append(nn.ModuleList([ConvBn(cin, nout, 1, cfg['bottleneck'], bnf[s])]))
                channels_out.append(cin + nout)
            else:
                cfiner = channels_in[s - 1 - self.first]
                self.branches.append(nn.ModuleList([
                    ConvBn(cfiner, nout // 2, 2, cfg['bottleneck'], bnf[s - 1]),
                    ConvBn(cin, nout // 2, 1, cfg['bottleneck'], bnf[s]),
                ]))
                channels_out.append(cin + 2 * (nout // 2))
        self.transitions = None
        if self.discard > 0 and cfg['reduction'] > 0:
            reduced = int(math.floor(cfg['reduction'] * n_in_next))
            self.transitions = nn.ModuleList(
                [ConvBnRelu(c, reduced * gr[self.offset + o], 1, 1) for o, c in enumerate(channels_out)])
            channels_out = [reduced * gr[self.offset + o] for o in range(out_scales)]
            self.n_in_after = reduced
        else:
            self.n_in_after = n_in_next
        self.channels_out = channels_out

    def forward(self, xs):
        at = lambda s: xs[s - self.first]
        out = []
        for o, convs in enumerate(self.branches):
            s = self.offset + o
            if len(convs) == 1:
                out.append(torch.cat([at(s), convs[0](at(s))], 1))
            else:
                out.append(torch.cat([at(s), convs[0](at(s - 1)), convs[1](at(s))], 1))
        if self.transitions is not None:
            out = [t(x) for t, x in zip(self.transitions, out)]
        return out


class Classifier(nn.Module):
    def __init__(self, cin, channels, num_classes):
        super().__init__()
        self.convs = nn.Sequential(ConvBnRelu(cin, channels, 3, 2), ConvBnRelu(channels, channels, 3, 2))
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        y = self.convs(x)
        y = F.avg_pool2d(y, y.shape[2:])
        return self.fc(torch.flatten(y, 1))


class MSDNet(nn.Module):
    def __init__(self, cfg=CONFIG, num_classes=10):
        super().__init__()
        S = cfg['scales']
        gr = cfg['growth_factor']
        first, cin = [], 3
        for s in range(S):
            first.append(ConvBnRelu(cin, cfg['channels'] * gr[s], 3, 1 if s == 0 else 2))
            cin = cfg['channels'] * gr[s]
        self.first = nn.ModuleList(first)
        steps = [cfg['base'] if i == 0 else cfg['step'] for i in range(cfg['blocks'])]
        total = sum(steps)
        channels = [cfg['channels'] * gr[s] for s in range(S)]
        n_in, n = cfg['channels'], 0
        self.blocks = nn.ModuleList()
        self.classifiers = nn.ModuleList()
        for b in range(cfg['blocks']):
            layers = []
            for _ in range(steps[b]):
                n += 1
                layer = DenseLayer(channels, n, total, cfg, n_in + cfg['growth_rate'])
                layers.append(layer)
                channels, n_in = layer.channels_out, layer.n_in_after
            self.blocks.append(nn.Sequential(*layers))
            self.classifiers.append(Classifier(channels[-1], cfg['classifier_channels'], num_classes))
        self.register_buffer('mean', torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(STD).view(1, 3, 1, 1))

    def forward(self, x):
        # Normalisation inside the model, as ExitLab's forward does, so attacks see [0, 1] pixels.
        y = (x - self.mean) / self.std
        xs = []
        for conv in self.first:
            y = conv(y)
            xs.append(y)
        logits = []
        for block, head in zip(self.blocks, self.classifiers):
            xs = block(xs)
            logits.append(head(xs[-1]))
        return logits


def paper_lambda(exit_count):
    """ExitLab's paperLambda (src-shared/presets.ts)."""
    if exit_count == 1:
        return [0.15]
    shallow = round(3 / 7 * exit_count)
    return [0.1 if i < shallow else 0.15 for i in range(exit_count)]


def count_macs(model, side=32):
    """Multiply-accumulates per image of one forward pass, from the output shapes actually produced."""
    total = [0]

    def conv_hook(m, _inp, out):
        total[0] += out.shape[2] * out.shape[3] * m.kernel_size[0] * m.kernel_size[1] * m.in_channels * m.out_channels

    def fc_hook(m, _inp, _out):
        total[0] += m.in_features * m.out_features

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(fc_hook) for m in model.modules() if isinstance(m, nn.Linear)]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, side, side))
    model.train(was_training)
    for h in hooks:
        h.remove()
    return total[0]


def fgsm_me_step(model, opt, lambdas, x, y, eps, alpha):
    model.train()
    x_in = x.clone().requires_grad_(True)
    attack_loss = torch.stack([F.cross_entropy(l, y, reduction='none') for l in model(x_in)]).mean(0).sum()
    (g,) = torch.autograd.grad(attack_loss, x_in)
    with torch.no_grad():
        x_adv = torch.clamp(torch.min(torch.max(x + alpha * g.sign(), x - eps), x + eps), 0, 1)
    opt.zero_grad(set_to_none=True)
    logits = model(x_adv)
    loss = sum(F.cross_entropy(l, y) for l in logits)
    loss = loss + sum(lam * head.fc.weight.pow(2).sum() for lam, head in zip(lambdas, model.classifiers))
    loss.backward()
    opt.step()
    return loss.item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', default='1', help='comma-separated thread counts')
    p.add_argument('--steps', type=int, default=3, help='timed steps per thread count (after one warm-up)')
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--expect-macs', type=int, default=None, help='exit 2 if the MAC count differs')
    a = p.parse_args()

    torch.manual_seed(1)
    model = MSDNet()
    macs = count_macs(model)
    if a.expect_macs is not None and macs != a.expect_macs:
        print(json.dumps({'error': f'MACs per image {macs} != expected {a.expect_macs}', 'macsPerImage': macs}))
        sys.exit(2)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    lambdas = paper_lambda(len(model.classifiers))
    g = torch.Generator().manual_seed(1)
    x = torch.rand(a.batch, 3, 32, 32, generator=g)
    y = torch.tensor([(i * 7 + 1) % 10 for i in range(a.batch)])
    eps = 8 / 255
    results = []
    for t in [int(s) for s in a.threads.split(',')]:
        torch.set_num_threads(t)
        fgsm_me_step(model, opt, lambdas, x, y, eps, eps)
        times = []
        for _ in range(a.steps):
            t0 = time.perf_counter()
            fgsm_me_step(model, opt, lambdas, x, y, eps, eps)
            times.append((time.perf_counter() - t0) * 1000)
        ms = statistics.median(times)
        results.append({'threads': t, 'msPerStep': ms, 'stepMs': times, 'imagesPerSecond': a.batch * 1000 / ms})
    print(json.dumps({
        'torch': torch.__version__,
        'macsPerImage': macs,
        'parameters': sum(p.numel() for p in model.parameters()),
        'batchSize': a.batch,
        'results': results,
    }))


if __name__ == '__main__':
    main()
