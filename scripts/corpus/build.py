#!/usr/bin/env python3
"""Builds the real-model corpus: ONNX files exported by torch from torchvision architectures with
random weights (weights=None: nothing is downloaded) and from three small detectors written here,
at opsets 11, 13 and 17, into .fdk/corpus/ (git-ignored). Needs torch + torchvision (the bench
venv: scripts/setup-python.sh --bench); never runs in CI.

Usage: build.py [--out DIR] [--opsets 11,13,17] [--only NAME,...] [--list]
Writes DIR/<name>-op<opset>.onnx and DIR/manifest.json (name, opset, file, input shape, family,
export seconds or the export error).
"""
import argparse
import json
import os
import sys
import time
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
import torchvision.models.segmentation as tvs

warnings.filterwarnings("ignore")
torch.manual_seed(0)
# eval-mode nn.MultiheadAttention takes a fused fast path (aten::_native_multi_head_attention)
# that the ONNX exporter cannot write; the plain path exports as MatMul/Softmax
torch.backends.mha.set_fastpath_enabled(False)


# ---------------------------------------------------------------------------------------------
# models written here


def conv_bn_act(cin, cout, k=3, s=1, act=nn.SiLU, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), act())


class Focus(nn.Module):
    """YOLOv5's stem: four step-2 slices concatenated on channels, then a conv."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = conv_bn_act(cin * 4, cout, 3)

    def forward(self, x):
        return self.conv(torch.cat([x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]], 1))


class SPPF(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.cv1 = conv_bn_act(c, c // 2, 1)
        self.cv2 = conv_bn_act(c * 2, c, 1)
        self.m = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat([x, y1, y2, self.m(y2)], 1))


class Detect(nn.Module):
    """YOLO head: per level a 1x1 conv, view [1, na, no, h, w], permute, sigmoid, flatten."""

    def __init__(self, nc, chs, na=3):
        super().__init__()
        self.na, self.no = na, nc + 5
        self.m = nn.ModuleList(nn.Conv2d(c, na * self.no, 1) for c in chs)

    def forward(self, feats):
        outs = []
        for conv, f in zip(self.m, feats):
            y = conv(f)
            _, _, h, w = y.shape
            y = y.view(1, self.na, self.no, h, w).permute(0, 1, 3, 4, 2).sigmoid()
            outs.append(y.reshape(1, -1, self.no))
        return torch.cat(outs, 1)


class TinyYolo(nn.Module):
    def __init__(self, nc=80):
        super().__init__()
        self.stem = Focus(3, 16)
        self.d1 = nn.Sequential(conv_bn_act(16, 32, 3, 2), conv_bn_act(32, 32))
        self.d2 = nn.Sequential(conv_bn_act(32, 64, 3, 2), conv_bn_act(64, 64))
        self.d3 = nn.Sequential(conv_bn_act(64, 128, 3, 2), SPPF(128))
        self.lat = conv_bn_act(128, 64, 1)
        self.fuse = conv_bn_act(128, 64)
        self.detect = Detect(nc, [64, 128])

    def forward(self, x):
        x = self.stem(x)
        x = self.d1(x)
        p4 = self.d2(x)
        p5 = self.d3(p4)
        up = F.interpolate(self.lat(p5), scale_factor=2.0, mode="nearest")
        return self.detect([self.fuse(torch.cat([up, p4], 1)), p5])


class TinyScrfd(nn.Module):
    """SCRFD/YuNet-style anchor-free face detector: depthwise backbone, FPN-lite, per stride
    score (sigmoid), box distances and 5 landmarks, flattened to [1, HW*anchors, C]."""

    def __init__(self, anchors=2):
        super().__init__()
        dw = lambda c, s: nn.Sequential(conv_bn_act(c, c, 3, s, nn.ReLU, groups=c), conv_bn_act(c, c * 2 if s == 2 else c, 1, 1, nn.ReLU))
        self.stem = conv_bn_act(3, 16, 3, 2, nn.ReLU)
        self.s4 = nn.Sequential(dw(16, 2), dw(32, 1))  # /4, 32
        self.s8 = nn.Sequential(dw(32, 2), dw(64, 1))  # /8, 64
        self.s16 = nn.Sequential(dw(64, 2), dw(128, 1))  # /16, 128
        self.s32 = nn.Sequential(dw(128, 2), dw(256, 1))  # /32, 256
        self.lat = nn.ModuleList(conv_bn_act(c, 32, 1, 1, nn.ReLU) for c in (64, 128, 256))
        self.a = anchors
        self.cls = nn.ModuleList(nn.Conv2d(32, anchors, 1) for _ in range(3))
        self.box = nn.ModuleList(nn.Conv2d(32, anchors * 4, 1) for _ in range(3))
        self.kps = nn.ModuleList(nn.Conv2d(32, anchors * 10, 1) for _ in range(3))

    def forward(self, x):
        c3 = self.s8(self.s4(self.stem(x)))
        c4 = self.s16(c3)
        c5 = self.s32(c4)
        p5 = self.lat[2](c5)
        p4 = self.lat[1](c4) + F.interpolate(p5, scale_factor=2.0, mode="nearest")
        p3 = self.lat[0](c3) + F.interpolate(p4, scale_factor=2.0, mode="nearest")
        scores, boxes, kps = [], [], []
        for i, p in enumerate((p3, p4, p5)):
            scores.append(self.cls[i](p).sigmoid().permute(0, 2, 3, 1).reshape(1, -1, 1))
            boxes.append(self.box[i](p).permute(0, 2, 3, 1).reshape(1, -1, 4))
            kps.append(self.kps[i](p).permute(0, 2, 3, 1).reshape(1, -1, 10))
        return torch.cat(scores, 1), torch.cat(boxes, 1), torch.cat(kps, 1)


class Crnn(nn.Module):
    """CRNN text recogniser: conv stack to a 1-pixel-high feature row, two bidirectional LSTM
    layers over the width, a linear classifier, log-softmax (sequence-major output [W, 1, K])."""

    def __init__(self, classes=37, hidden=64):
        super().__init__()
        r = lambda a, b: conv_bn_act(a, b, 3, 1, nn.ReLU)
        self.cnn = nn.Sequential(r(1, 32), nn.MaxPool2d(2, 2), r(32, 64), nn.MaxPool2d(2, 2), r(64, 128), r(128, 128),
                                 nn.MaxPool2d((2, 1), (2, 1)), r(128, 128), nn.MaxPool2d((2, 1), (2, 1)), r(128, 128), nn.MaxPool2d((2, 1), (2, 1)))
        self.rnn = nn.LSTM(128, hidden, num_layers=2, bidirectional=True)
        self.fc = nn.Linear(hidden * 2, classes)

    def forward(self, x):
        f = self.cnn(x).squeeze(2)  # [1, C, W]
        s, _ = self.rnn(f.permute(2, 0, 1))  # [W, 1, 2H]
        return F.log_softmax(self.fc(s), dim=2)


class SegOut(nn.Module):
    """torchvision segmentation models return a dict; export its 'out'."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)["out"]


# ---------------------------------------------------------------------------------------------
# the corpus: name -> (family, builder, input shape)

CLS = (1, 3, 224, 224)
MODELS = {
    "resnet18": ("classification", lambda: tvm.resnet18(weights=None), CLS),
    "mobilenet_v2": ("classification", lambda: tvm.mobilenet_v2(weights=None), CLS),
    "mobilenet_v3_small": ("classification", lambda: tvm.mobilenet_v3_small(weights=None), CLS),
    "mobilenet_v3_large": ("classification", lambda: tvm.mobilenet_v3_large(weights=None), CLS),
    "shufflenet_v2_x1_0": ("classification", lambda: tvm.shufflenet_v2_x1_0(weights=None), CLS),
    "squeezenet1_1": ("classification", lambda: tvm.squeezenet1_1(weights=None), CLS),
    "mnasnet0_5": ("classification", lambda: tvm.mnasnet0_5(weights=None), CLS),
    "efficientnet_b0": ("classification", lambda: tvm.efficientnet_b0(weights=None), CLS),
    "regnet_y_400mf": ("classification", lambda: tvm.regnet_y_400mf(weights=None), CLS),
    "densenet121": ("classification", lambda: tvm.densenet121(weights=None), CLS),
    "googlenet": ("classification", lambda: tvm.googlenet(weights=None, aux_logits=False, init_weights=True), CLS),
    "convnext_tiny": ("classification", lambda: tvm.convnext_tiny(weights=None), CLS),
    "vit_b_16": ("classification", lambda: tvm.vit_b_16(weights=None), CLS),
    "swin_t": ("classification", lambda: tvm.swin_t(weights=None), CLS),
    "lraspp_mobilenet_v3_large": ("segmentation", lambda: SegOut(tvs.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None)), (1, 3, 256, 256)),
    "deeplabv3_mobilenet_v3_large": ("segmentation", lambda: SegOut(tvs.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=False)), (1, 3, 256, 256)),
    "fcn_resnet50": ("segmentation", lambda: SegOut(tvs.fcn_resnet50(weights=None, weights_backbone=None, aux_loss=False)), (1, 3, 256, 256)),
    "tiny_yolo": ("detection", lambda: TinyYolo(), (1, 3, 320, 320)),
    "tiny_scrfd": ("detection", lambda: TinyScrfd(), (1, 3, 320, 320)),
    "crnn": ("recognition", lambda: Crnn(), (1, 1, 32, 128)),
}


def randomise_bn(model):
    """Random weights leave BatchNorm at mean 0 / var 1; give it real statistics so folding and
    numerics are exercised like a trained model's. Weights initialised to zero (ViT's head) would
    make the output all zeros, which compares equal whatever a converter does: they get small
    random values too."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2 and not p.any():
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)


def export(name, opset, out):
    family, build, shape = MODELS[name]
    torch.manual_seed(0)
    model = build().eval()
    randomise_bn(model)
    x = torch.randn(*shape)
    path = os.path.join(out, f"{name}-op{opset}.onnx")
    tmp = path + ".tmp"
    t0 = time.perf_counter()
    with torch.no_grad():
        torch.onnx.export(model, (x,), tmp, opset_version=opset, input_names=["input"], do_constant_folding=True, dynamo=False)
    os.replace(tmp, path)
    return {"name": name, "family": family, "opset": opset, "file": os.path.basename(path), "input": list(shape), "exportSeconds": round(time.perf_counter() - t0, 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", ".fdk", "corpus"))
    ap.add_argument("--opsets", default="11,13,17")
    ap.add_argument("--only", default="")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        print("\n".join(MODELS))
        return
    os.makedirs(a.out, exist_ok=True)
    names = [n for n in a.only.split(",") if n] or list(MODELS)
    for n in names:
        if n not in MODELS:
            sys.exit(f"build.py: unknown model '{n}' (--list shows them)")
    manifest_path = os.path.join(a.out, "manifest.json")
    entries = {}
    if os.path.exists(manifest_path):
        for e in json.load(open(manifest_path)):
            entries[(e["name"], e["opset"])] = e
    torch.set_num_threads(1)
    for n in names:
        for op in [int(o) for o in a.opsets.split(",")]:
            try:
                e = export(n, op, a.out)
            except Exception as ex:  # recorded: a model torch cannot export at an opset is a result too
                e = {"name": n, "family": MODELS[n][0], "opset": op, "file": None, "input": list(MODELS[n][2]), "error": str(ex).strip().split("\n")[0][:200]}
            entries[(n, op)] = e
            print(f"{n} op{op}: {e.get('file') or 'FAILED ' + e['error']}", flush=True)
    order = {n: i for i, n in enumerate(MODELS)}
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(sorted(entries.values(), key=lambda e: (order.get(e["name"], 99), e["opset"])), f, indent=1)
    os.replace(manifest_path + ".tmp", manifest_path)


if __name__ == "__main__":
    main()
