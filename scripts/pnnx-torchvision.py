"""Builds a few torchvision models (random weights, weights=None) and converts each with pnnx to
ncnn, plus a torch.onnx export of the same module, so `fdk analyze` can be checked on pnnx's
.param against the ONNX it came from (scripts/ncnn-pnnx-analyze.ts does the comparison).

Dev only: needs torch, torchvision and pnnx (scripts/requirements-bench.txt), e.g.
    /work/venv-bench/bin/python scripts/pnnx-torchvision.py [OUT_DIR] [model ...]
Outputs (git-ignored): OUT_DIR (default .fdk/pnnx)/<model>.{pt,onnx,ncnn.param,ncnn.bin}.
"""
import json
import os
import shutil
import subprocess
import sys

import torch
import torchvision

# Chosen for the ncnn layers they make pnnx emit: SE blocks (global pooling to a [c] vector, then a
# per-channel BinaryOp with a (c,h,w) blob), HardSwish / HardSigmoid, ShuffleChannel and Slice,
# residual BinaryOps, InnerProduct after Flatten.
DEFAULT_MODELS = ["mobilenet_v3_small", "shufflenet_v2_x0_5", "resnet18", "efficientnet_b0", "sequence_block"]
SIZE = 224


def pnnx_exe():
    here = os.path.dirname(sys.executable)
    for cand in (os.path.join(here, "pnnx"), shutil.which("pnnx")):
        if cand and os.path.exists(cand):
            return cand
    sys.exit("pnnx not found (pip install pnnx in this Python's venv)")


class SequenceBlock(torch.nn.Module):
    """LayerNorm, an MLP with GELU and an LSTM over a (1, T, C) sequence: the sequence layers
    (LayerNorm, Gemm/InnerProduct, GELU, LSTM) as pnnx writes them."""

    def __init__(self, c=64, hidden=128):
        super().__init__()
        self.norm = torch.nn.LayerNorm(c)
        self.fc1 = torch.nn.Linear(c, hidden)
        self.fc2 = torch.nn.Linear(hidden, c)
        self.lstm = torch.nn.LSTM(c, c, batch_first=True)

    def forward(self, x):
        y = x + self.fc2(torch.nn.functional.gelu(self.fc1(self.norm(x))))
        return self.lstm(y)[0]


def build(name):
    """A torchvision model by name, or SequenceBlock for `sequence_block`. Returns (module, input)."""
    if name == "sequence_block":
        return SequenceBlock().eval(), torch.rand(1, 16, 64)
    return torchvision.models.get_model(name, weights=None).eval(), torch.rand(1, 3, SIZE, SIZE)


def main():
    args = sys.argv[1:]
    out = args[0] if args and args[0] not in torchvision.models.list_models() + ["sequence_block"] else ".fdk/pnnx"
    names = [a for a in args if a != out] or DEFAULT_MODELS
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    exe = pnnx_exe()
    for name in names:
        model, x = build(name)
        # torchvision's fresh BatchNorms are identities (gamma 1, beta 0, mean 0, var 1) and its
        # biases zeros: equal tensors, which torch.onnx deduplicates into one shared initializer
        # (reached through Identity nodes). Random values keep every tensor its own, as in a trained model.
        with torch.no_grad():
            for n, prm in model.named_parameters():
                if n.endswith("bias"):
                    prm.uniform_(-0.1, 0.1)
            for m in model.modules():
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.1, 0.1)
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
        stem = os.path.join(out, name)
        with torch.no_grad():
            torch.jit.trace(model, x).save(stem + ".pt")
            torch.onnx.export(model, (x,), stem + ".onnx", input_names=["in0"], output_names=["out0"], opset_version=13, dynamo=False)
        # fp16=0: keep fp32 weights so weights compare exactly; outputs land beside the .pt
        cmd = [exe, stem + ".pt", "inputshape=[" + ",".join(map(str, x.shape)) + "]", "fp16=0",
               f"ncnnparam={stem}.ncnn.param", f"ncnnbin={stem}.ncnn.bin", f"ncnnpy={stem}_ncnn.py",
               f"pnnxparam={stem}.pnnx.param", f"pnnxbin={stem}.pnnx.bin", f"pnnxpy={stem}_pnnx.py", f"pnnxonnx={stem}.pnnx.onnx"]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0 or not os.path.exists(stem + ".ncnn.param"):
            print(r.stdout[-2000:], file=sys.stderr)
            sys.exit(f"pnnx failed on {name}")
        with open(stem + ".input.json", "w") as f:
            json.dump(list(x.shape), f)
        print(f"{name}: {stem}.onnx {stem}.ncnn.param")


if __name__ == "__main__":
    main()
