#!/usr/bin/python3
"""PyTorch side of tests/cli_interop.sh: dppf's safetensors files load into the
equivalent torch models and give the same test-set outputs.

    torch_check_export.py check MODEL.safetensors PRED.csv [MODEL PRED.csv]...
        Builds the torch model the file's metadata describes (model.arch and
        sizes, input_shape, classes: what `dppf export` writes), loads the
        tensors with load_state_dict(strict=True), runs it in eval mode on the
        Fashion-MNIST test samples PRED.csv lists (from $DPPF_FASHION_MNIST,
        plain or .gz IDX files; default /usr/share/datasets/fashion-mnist) (`dppf eval --predictions`:
        index,label,pred,logit0,...) and compares: every predicted class must
        agree (except where dppf's two best logits are within float noise),
        and the logits within 1e-4 relative to their scale.
    torch_check_export.py write OUT.safetensors LIKE.safetensors SEED [OUT LIKE SEED]...
        Writes a torch-initialised model (torch's default init, BatchNorm
        affine and running statistics randomised so they matter) for the
        architecture of LIKE, with the same metadata: for `dppf import`.

The safetensors header is read and written with json + struct (Debian has no
safetensors package). The models: make_resnet_fixture.ResNet (the reference
used by test_torch_models), the larger families in fixtures/torch_models.py,
and below the cnn and mlp of lib/nn/model_{cnn,mlp}.c with its module names.
Models of data.resize_pad inputs (input_shape larger than 28x28) get the test
images padded with the normalised value of a 0 pixel, as dppf pads them. Exit
status 0 = agreement, 1 = mismatch, 2 = usage/input error.
"""
import gzip
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("DPPF_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
# dppf's Fashion-MNIST normalisation (lib/io/dataset.c batch_cfg_from_spec).
MEAN, STD = 0.2860, 0.3530

DTYPES = {"F32": (np.float32, torch.float32), "F64": (np.float64, torch.float64),
          "I64": (np.int64, torch.int64), "I32": (np.int32, torch.int32),
          "U8": (np.uint8, torch.uint8)}


def load_fixture_module(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "fixtures", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class CNN(nn.Module):
    """lib/nn/model_cnn.c: per width conv3x3 (bias only without BN) -> BN ->
    ReLU -> maxpool 2 (while the map is at least 2x2); flatten; fc1 -> fc1_bn
    -> ReLU when fc > 0; classifier."""

    def __init__(self, in_c, h, w, classes, widths, fc, bn, bn_momentum, bn_eps):
        super().__init__()
        self.bn, self.pools, c = bn, [], in_c
        for i, width in enumerate(widths, 1):
            setattr(self, "conv%d" % i, nn.Conv2d(c, width, 3, 1, 1, bias=not bn))
            if bn:
                setattr(self, "bn%d" % i, nn.BatchNorm2d(width, eps=bn_eps, momentum=bn_momentum))
            pool = h >= 2 and w >= 2
            self.pools.append(pool)
            if pool:
                h, w = (h - 2) // 2 + 1, (w - 2) // 2 + 1
            c = width
        feat = c * h * w
        self.fc = fc
        if fc > 0:
            self.fc1 = nn.Linear(feat, fc)
            if bn:
                self.fc1_bn = nn.BatchNorm1d(fc, eps=bn_eps, momentum=bn_momentum)
            feat = fc
        self.classifier = nn.Linear(feat, classes)

    def forward(self, x):
        for i, pool in enumerate(self.pools, 1):
            x = getattr(self, "conv%d" % i)(x)
            if self.bn:
                x = getattr(self, "bn%d" % i)(x)
            x = F.relu(x)
            if pool:
                x = F.max_pool2d(x, 2, 2)
        x = x.flatten(1)
        if self.fc > 0:
            x = self.fc1(x)
            if self.bn:
                x = self.fc1_bn(x)
            x = F.relu(x)
        return self.classifier(x)


class MLP(nn.Module):
    """lib/nn/model_mlp.c: flatten; fc<i> -> bn<i> -> ReLU per hidden size; classifier."""

    def __init__(self, in_features, classes, hidden, bn, bn_momentum, bn_eps):
        super().__init__()
        self.n, self.bn, f = len(hidden), bn, in_features
        for i, size in enumerate(hidden, 1):
            setattr(self, "fc%d" % i, nn.Linear(f, size))
            if bn:
                setattr(self, "bn%d" % i, nn.BatchNorm1d(size, eps=bn_eps, momentum=bn_momentum))
            f = size
        self.classifier = nn.Linear(f, classes)

    def forward(self, x):
        x = x.flatten(1)
        for i in range(1, self.n + 1):
            x = getattr(self, "fc%d" % i)(x)
            if self.bn:
                x = getattr(self, "bn%d" % i)(x)
            x = F.relu(x)
        return self.classifier(x)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        np_t, _ = DTYPES[info["dtype"]]
        arr = np.frombuffer(data[b:e], dtype=np.dtype(np_t).newbyteorder("<")).copy()
        tensors[name] = torch.from_numpy(arr.reshape(info["shape"]))
    return tensors, meta


def write_safetensors(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, t in tensors.items():
        arr = t.detach().cpu().contiguous().numpy()
        dt = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[arr.dtype]
        blob = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    h = json.dumps(header).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def build_model(meta):
    arch = meta["model.arch"]
    c, h, w = json.loads(meta["input_shape"])
    classes = int(meta["classes"])
    mom, eps = float(meta["model.bn_momentum"]), float(meta["model.bn_eps"])
    if arch == "cnn":
        return CNN(c, h, w, classes, json.loads(meta["model.widths"]), int(meta["model.fc"]),
                   meta["model.batchnorm"] == "true", mom, eps)
    if arch == "mlp":
        return MLP(c * h * w, classes, json.loads(meta["model.hidden"]),
                   meta["model.batchnorm"] == "true", mom, eps)
    base = int(meta["model.base_width"])
    T = load_fixture_module("torch_models")
    if arch in ("resnet18", "resnet34"):
        return T.ResNetImageNet(int(arch[6:]), base, c, classes, mom, eps)
    if arch.startswith("preresnet"):
        return T.PreActResNet(int(arch[9:]), base, c, classes, mom, eps)
    if arch.startswith("resnet"):
        return load_fixture_module("make_resnet_fixture").ResNet(int(arch[6:]), base, c, classes, mom, eps)
    if arch == "pyramidnet":
        return T.PyramidNet(int(meta["model.depth"]), int(meta["model.alpha"]),
                            meta["model.block"] == "bottleneck", base, c, classes, mom, eps)
    if arch == "wrn":
        return T.WideResNet(int(meta["model.depth"]), int(meta["model.widen"]), base, c, classes,
                            float(meta["model.block_dropout"]), mom, eps)
    if arch == "vgg16":
        return T.VGG(base, c, h, w, classes, mom, eps)
    sys.exit("torch_check_export: unknown model.arch '%s'" % arch)


def fashion_mnist_test():
    def idx(name):
        path = os.path.join(DATA, name)
        with (open(path, "rb") if os.path.exists(path) else gzip.open(path + ".gz", "rb")) as f:
            raw = f.read()
        ndim = raw[3]
        dims = struct.unpack(">%dI" % ndim, raw[4:4 + 4 * ndim])
        return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    images = idx("t10k-images-idx3-ubyte")
    labels = idx("t10k-labels-idx1-ubyte")
    # As batch_fill computes it in float32: pixel * scale + shift.
    scale = np.float32(1.0) / (np.float32(255.0) * np.float32(STD))
    shift = -np.float32(MEAN) / np.float32(STD)
    x = images.astype(np.float32) * scale + shift
    return torch.from_numpy(x[:, None, :, :].astype(np.float32)), labels


def check(model_path, pred_path, data):
    tensors, meta = read_safetensors(model_path)
    model = build_model(meta)
    model.load_state_dict(tensors, strict=True)  # raises on any missing/extra/mis-shaped tensor
    model.eval()
    rows = np.loadtxt(pred_path, delimiter=",", skiprows=1, ndmin=2)
    index, label, pred = rows[:, 0].astype(int), rows[:, 1].astype(int), rows[:, 2].astype(int)
    dlogits = rows[:, 3:]
    x, labels = data
    pad = (json.loads(meta["input_shape"])[1] - x.shape[2]) // 2
    if pad > 0:  # data.resize_pad: 0 pixels, i.e. the normalised value of a 0 pixel
        x = F.pad(x, (pad, pad, pad, pad), value=float(-np.float32(MEAN) / np.float32(STD)))
    if not np.array_equal(labels[index], label):
        print("%s: the labels in %s are not Fashion-MNIST's test labels" % (model_path, pred_path))
        return False
    with torch.no_grad():
        tlogits = model(x[index]).double().numpy()
    tpred = tlogits.argmax(axis=1)
    scale = max(1.0, float(np.abs(dlogits).max()))
    err = float(np.abs(tlogits - dlogits).max()) / scale
    srt = np.sort(dlogits, axis=1)
    close = (srt[:, -1] - srt[:, -2]) < 1e-4 * scale  # a tie within float noise may go either way
    bad = (tpred != pred) & ~close
    acc_d, acc_t = float((pred == label).mean()), float((tpred == label).mean())
    ok = err <= 1e-4 and not bad.any()
    print("%s %s: %d samples, %d predictions differ (%d near-ties), max logit error %.2e "
          "(relative to %.3g), accuracy dppf %.4f torch %.4f" %
          ("ok" if ok else "MISMATCH", model_path, len(index), int((tpred != pred).sum()),
           int(close.sum()), err, scale, acc_d, acc_t))
    return ok


def write(out, like, seed):
    _, meta = read_safetensors(like)
    torch.manual_seed(seed)
    model = build_model(meta)
    bn = {n for n, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape))
        for name, p in model.named_parameters():
            if name.rsplit(".", 1)[0] in bn and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape))
            elif name.rsplit(".", 1)[0] in bn and name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape))
    meta = {k: v for k, v in meta.items() if k.startswith("model.") or k in ("input_shape", "classes")}
    meta["format"] = "pt"
    write_safetensors(out, model.state_dict(), meta)
    print("wrote %s: torch-initialised %s (seed %d)" % (out, meta["model.arch"], seed))


def main(argv):
    torch.set_num_threads(1)
    if len(argv) >= 4 and argv[0] == "write" and len(argv) % 3 == 1:
        for i in range(1, len(argv), 3):
            write(argv[i], argv[i + 1], int(argv[i + 2]))
        return 0
    if len(argv) >= 3 and argv[0] == "check" and len(argv) % 2 == 1:
        data = fashion_mnist_test()
        results = [check(argv[i], argv[i + 1], data) for i in range(1, len(argv), 2)]
        return 0 if all(results) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
