"""Builds a few torchvision models (random weights, weights=None) and converts each with pnnx to
ncnn, plus a torch.onnx export of the same module, so `fdk analyze` can be checked on pnnx's
.param against the ONNX it came from (scripts/ncnn-pnnx-analyze.ts does the comparison).

Dev only: needs torch, torchvision and pnnx (scripts/requirements-bench.txt), e.g.
    /work/venv-bench/bin/python scripts/pnnx-torchvision.py [OUT_DIR] [model ...]
Outputs (git-ignored): OUT_DIR (default .fdk/pnnx)/<model>.{pt,onnx,ncnn.param,ncnn.bin}.
"""
import os
import shutil
import subprocess
import sys

import torch
import torchvision

# Chosen for the ncnn layers they make pnnx emit: SE blocks (global pooling to a [c] vector, then a
# per-channel BinaryOp with a (c,h,w) blob), HardSwish / HardSigmoid, ShuffleChannel and Slice,
# residual BinaryOps, InnerProduct after Flatten.
DEFAULT_MODELS = ["mobilenet_v3_small", "shufflenet_v2_x0_5", "resnet18", "efficientnet_b0"]
SIZE = 224


def pnnx_exe():
    here = os.path.dirname(sys.executable)
    for cand in (os.path.join(here, "pnnx"), shutil.which("pnnx")):
        if cand and os.path.exists(cand):
            return cand
    sys.exit("pnnx not found (pip install pnnx in this Python's venv)")


def main():
    args = sys.argv[1:]
    out = args[0] if args and not args[0] in torchvision.models.list_models() else ".fdk/pnnx"
    names = [a for a in args if a != out] or DEFAULT_MODELS
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    exe = pnnx_exe()
    for name in names:
        model = torchvision.models.get_model(name, weights=None).eval()
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
        x = torch.rand(1, 3, SIZE, SIZE)
        stem = os.path.join(out, name)
        with torch.no_grad():
            torch.jit.trace(model, x).save(stem + ".pt")
            torch.onnx.export(model, (x,), stem + ".onnx", input_names=["in0"], output_names=["out0"], opset_version=13, dynamo=False)
        # fp16=0: keep fp32 weights so weights compare exactly; outputs land beside the .pt
        cmd = [exe, stem + ".pt", f"inputshape=[1,3,{SIZE},{SIZE}]", "fp16=0",
               f"ncnnparam={stem}.ncnn.param", f"ncnnbin={stem}.ncnn.bin", f"ncnnpy={stem}_ncnn.py",
               f"pnnxparam={stem}.pnnx.param", f"pnnxbin={stem}.pnnx.bin", f"pnnxpy={stem}_pnnx.py", f"pnnxonnx={stem}.pnnx.onnx"]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0 or not os.path.exists(stem + ".ncnn.param"):
            print(r.stdout[-2000:], file=sys.stderr)
            sys.exit(f"pnnx failed on {name}")
        print(f"{name}: {stem}.onnx {stem}.ncnn.param")


if __name__ == "__main__":
    main()
