#!/usr/bin/env python3
"""Throughput of dppf's benchmark models in PyTorch (CPU), for comparison with `dppf bench`.

Same models, batch, synthetic data, optimizer (SGD lr 0.01, momentum 0.9, weight decay 5e-4),
warm-up and step counts as lib/run/bench.c; prints a table, or with --csv the same CSV columns as
`dppf bench --csv` (the GEMM columns left empty). Needs only torch (Debian: python3-torch).
"""
import argparse
import importlib.util
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CSV_HEADER = "model,threads,batch,train_img_s,eval_img_s,step_ms,gemm_share,gemm_gflops,peak_gflops,blis_gflops"


# ---- models: the networks lib/run/bench.c builds (model_of) -----------------------------------

class ShortcutA(nn.Module):
    """Option-A shortcut (He et al. 2016): stride-2 subsample, zero channel padding on both sides."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.stride = stride
        self.pad = (planes - in_planes) // 2

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad, self.pad))


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if stride != 1 or in_planes != planes:
            self.shortcut = ShortcutA(in_planes, planes, stride)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNetCifar(nn.Module):
    """CIFAR ResNet-(6n+2): conv3x3 -> BN -> ReLU, 3 stages of n BasicBlocks, GAP, linear."""

    def __init__(self, depth=20, base=16, in_c=3, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_c, base, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        layers, planes_in = [], base
        for stage in range(3):
            planes = base << stage
            blocks = []
            for b in range(n):
                stride = 2 if stage > 0 and b == 0 else 1
                blocks.append(BasicBlock(planes_in, planes, stride))
                planes_in = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(planes_in, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.linear(x)


def make_cnn(in_c=1, hw=28, widths=(32, 64), fc=128, classes=10):
    """[conv3x3 (pad 1, no bias) -> BN -> ReLU -> maxpool 2] per width, flatten, fc -> BN1d -> ReLU,
    classifier."""
    layers, c = [], in_c
    for w in widths:
        layers += [nn.Conv2d(c, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                   nn.MaxPool2d(2, 2)]
        c, hw = w, hw // 2
    layers += [nn.Flatten(), nn.Linear(c * hw * hw, fc), nn.BatchNorm1d(fc), nn.ReLU(),
               nn.Linear(fc, classes)]
    return nn.Sequential(*layers)


def make_mlp(in_features=784, hidden=256, classes=10):
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.BatchNorm1d(hidden),
                         nn.ReLU(), nn.Linear(hidden, classes))


def torch_models():
    """tests/fixtures/torch_models.py: the torch definitions of dppf's larger models, checked
    against dppf's (state_dict names, outputs, one training step) by tests/test_torch_models.c
    and tests/torch_check_export.py."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                        "torch_models.py")
    spec = importlib.util.spec_from_file_location("torch_models", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


CIFAR = (3, 32, 32)
MODELS = {
    "resnet20": (lambda: ResNetCifar(20, 16, 3, 10), CIFAR),
    "cnn": (lambda: make_cnn(), (1, 28, 28)),
    "mlp": (lambda: make_mlp(), (1, 28, 28)),
}
# Every other architecture of dppf's model table (lib/nn/models.h), as `dppf bench` builds it:
# a spec's defaults on 3x32x32 inputs with 10 classes, BatchNorm momentum 0.1 and eps 1e-5
# (torch's). Arguments as tests/torch_check_export.py build_model passes a `dppf export`
# file's metadata for those defaults: base_width 16, or 64 for resnet18/34 and vgg16;
# wrn depth 28 widen 10, no block dropout; pyramidnet depth 110 alpha 48, basic blocks.
#
# Parameter counts, checked equal on both sides (dppf: the "# <model> on 3x32x32 ...,
# N parameters" lines of `dppf bench` without --csv, i.e. of the net it times; torch:
# `bench/bench_torch.py --params`, the sum of numel() over model.parameters()):
#   resnet8 75,290  resnet14 172,506  resnet20 269,722  resnet32 464,154  resnet56 853,018
#   resnet110 1,727,962 (the preresnet of each depth has the same count)  resnet18 11,173,962
#   resnet34 21,282,122  pyramidnet 1,772,706  wrn 36,479,194  vgg16 14,728,266
DEPTHS = (8, 14, 20, 32, 56, 110)
for _d in DEPTHS:
    if _d != 20:  # resnet20 above, unchanged: ResNetCifar is the CIFAR ResNet of any depth
        MODELS["resnet%d" % _d] = ((lambda d: lambda: ResNetCifar(d, 16, 3, 10))(_d), CIFAR)
for _d in DEPTHS:
    MODELS["preresnet%d" % _d] = ((lambda d: lambda: torch_models().PreActResNet(d, 16, 3, 10))(_d),
                                  CIFAR)
MODELS.update({
    "resnet18": (lambda: torch_models().ResNetImageNet(18, 64, 3, 10), CIFAR),
    "resnet34": (lambda: torch_models().ResNetImageNet(34, 64, 3, 10), CIFAR),
    "pyramidnet": (lambda: torch_models().PyramidNet(110, 48, False, 16, 3, 10), CIFAR),
    "wrn": (lambda: torch_models().WideResNet(28, 10, 16, 3, 10, 0.0), CIFAR),
    "vgg16": (lambda: torch_models().VGG(64, 3, 32, 32, 10), CIFAR),
})


# ---- measurement ------------------------------------------------------------------------------

def measure(name, threads, batch, steps, warmup, seed):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    build, shape = MODELS[name]
    model = build()
    x = torch.randn(batch, *shape)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def train_step():
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def eval_step():
        model.eval()
        with torch.no_grad():
            return F.cross_entropy(model(x), y)  # dppf's eval forward computes the loss too

    for _ in range(warmup):
        train_step()
        eval_step()
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = train_step()
    train_s = (time.perf_counter() - t0) / steps
    t0 = time.perf_counter()
    for _ in range(steps):
        eloss = eval_step()
    eval_s = (time.perf_counter() - t0) / steps
    if not (math.isfinite(loss.item()) and math.isfinite(eloss.item())):
        sys.exit(f"bench_torch: {name}: the loss became non-finite; timings discarded")
    return train_s, eval_s


def int_list(text):
    try:
        vals = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers")
    if not vals or min(vals) < 1:
        raise argparse.ArgumentTypeError(f"'{text}': thread counts must be >= 1")
    return vals


def model_list(text):
    names = text.split(",")
    for n in names:
        if n not in MODELS:
            raise argparse.ArgumentTypeError(f"unknown model '{n}' (choose from {', '.join(MODELS)})")
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=model_list, default=["resnet20", "cnn"])
    ap.add_argument("--threads", type=int_list, default=[1, 2])
    ap.add_argument("--steps", type=int, default=20, help="timed train steps and eval forwards")
    ap.add_argument("--warmup", type=int, default=3, help="untimed train + eval steps first")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--csv", action="store_true", help="CSV (same columns as dppf bench --csv)")
    ap.add_argument("--params", action="store_true",
                    help="only print each model's parameter count (to compare with dppf bench)")
    a = ap.parse_args()
    if a.params:
        for name in a.models:
            model = MODELS[name][0]()
            print(f"{name} {sum(p.numel() for p in model.parameters())}")
        return
    if a.steps < 1 or a.warmup < 0 or a.batch < 1:
        ap.error("need --steps >= 1, --warmup >= 0, --batch >= 1")

    out = sys.stdout
    if a.csv:
        print(CSV_HEADER, file=out)
    else:
        print(f"PyTorch {torch.__version__} (oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'}): "
              f"batch {a.batch}, {a.warmup} warm-up + {a.steps} timed steps, synthetic data, "
              "SGD momentum 0.9", file=out)
        print(f"\n{'model':<12} {'thr':>3} {'batch':>5} {'train img/s':>11} {'eval img/s':>11} "
              f"{'train ms':>9} {'eval ms':>9}", file=out)
    for name in a.models:
        for t in a.threads:
            train_s, eval_s = measure(name, t, a.batch, a.steps, a.warmup, a.seed)
            if a.csv:
                print(f"{name},{t},{a.batch},{a.batch / train_s:.1f},{a.batch / eval_s:.1f},"
                      f"{train_s * 1e3:.3f},,,,", file=out)
            else:
                print(f"{name:<12} {t:>3} {a.batch:>5} {a.batch / train_s:>11.1f} "
                      f"{a.batch / eval_s:>11.1f} {train_s * 1e3:>9.2f} {eval_s * 1e3:>9.2f}", file=out)
            out.flush()


if __name__ == "__main__":
    main()
