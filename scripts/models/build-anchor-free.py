#!/usr/bin/env python3
"""Build a face detector fdk has never seen: a small anchor-free (SCRFD-style) network in PyTorch,
randomly initialised, exported to ONNX with its fdk model description embedded in metadata_props
(key 'fdk.description'). Dev only (needs torch + onnx, e.g. /work/venv-bench/bin/python); CI builds
the same architecture in TypeScript (test/helpers/tiny-detectors.ts).

    python scripts/models/build-anchor-free.py -o .fdk/custom/tiny-anchor-free.onnx [--seed 0]

Outputs (concatenated over strides 8, 16, 32; one anchor point per cell, row-major):
    score [1, N, 1]  sigmoid probability of "face"
    bbox  [1, N, 4]  left/top/right/bottom distances from the anchor point, in strides (ReLU)
    kps   [1, N, 10] 5 landmark offsets from the anchor point, in strides
Random weights detect nothing useful (AP ~ 0): the point is that detect, accuracy and report run on
it without a code change. Train it (or load real weights) for real numbers.
"""
import argparse
import json
import os

import onnx
import torch
from torch import nn

DESCRIPTION = {
    "fdkDescription": 1,
    "name": "tiny-anchor-free",
    "title": "tiny anchor-free (SCRFD-style), PyTorch, random init",
    "input": {"name": "input", "layout": "NCHW", "resize": {"mode": "long-side", "size": 320, "interpolation": "cv2-linear", "pixelType": "float32"}},
    "preprocess": {"channelOrder": "RGB", "mean": [127.5, 127.5, 127.5], "std": [128, 128, 128]},
    "outputs": {"scores": "score", "boxes": "bbox", "landmarks": "kps"},
    "decode": {"family": "grid", "strides": [8, 16, 32], "anchorsPerCell": 1, "centerOffset": 0, "box": "ltrb",
               "classes": 1, "faceClass": 0, "scoreActivation": "none", "landmarks": 5},
    "postprocess": {"scoreThreshold": 0.3, "nms": 0.4, "nmsAreaPlusOne": False, "topK": 750, "candidateSize": None, "widerFormat": "floor-ceil"},
}


def conv(cin, cout, k, s):
    return nn.Conv2d(cin, cout, k, s, (k - 1) // 2)


class TinyAnchorFree(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        # stride-2 3x3 convs (padding 1): feature maps are ceil(H/s) x ceil(W/s), as the grid family assumes
        self.stem = nn.Sequential(conv(3, 8, 3, 2), nn.ReLU(), conv(8, ch, 3, 2), nn.ReLU())
        self.stages = nn.ModuleList([nn.Sequential(conv(ch, ch, 3, 2), nn.ReLU()) for _ in range(3)])
        self.cls = nn.ModuleList([conv(ch, 1, 1, 1) for _ in range(3)])
        self.reg = nn.ModuleList([conv(ch, 4, 1, 1) for _ in range(3)])
        self.kps = nn.ModuleList([conv(ch, 10, 1, 1) for _ in range(3)])

    @staticmethod
    def flat(x, per):
        return x.permute(0, 2, 3, 1).reshape(1, -1, per)

    def forward(self, x):
        x = self.stem(x)
        scores, boxes, kps = [], [], []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            scores.append(self.flat(torch.sigmoid(self.cls[i](x)), 1))
            boxes.append(self.flat(torch.relu(self.reg[i](x)), 4))
            kps.append(self.flat(self.kps[i](x), 10))
        return torch.cat(scores, 1), torch.cat(boxes, 1), torch.cat(kps, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default=".fdk/custom/tiny-anchor-free.onnx")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    net = TinyAnchorFree().eval()
    with torch.no_grad():
        for c in net.cls:  # spread the random scores over (0, 1) so some boxes pass the threshold
            c.weight.mul_(8.0)
            c.bias.fill_(-1.0)
    os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
    tmp = a.output + ".tmp"
    torch.onnx.export(net, torch.zeros(1, 3, 240, 320), tmp, opset_version=13, dynamo=False,
                      input_names=["input"], output_names=["score", "bbox", "kps"],
                      dynamic_axes={"input": {2: "H", 3: "W"}, "score": {1: "N"}, "bbox": {1: "N"}, "kps": {1: "N"}})
    m = onnx.load(tmp)
    entry = m.metadata_props.add()
    entry.key, entry.value = "fdk.description", json.dumps(DESCRIPTION)
    onnx.save(m, tmp)
    os.replace(tmp, a.output)
    print(f"wrote {a.output} (description embedded: metadata_props['fdk.description'])")


if __name__ == "__main__":
    main()
