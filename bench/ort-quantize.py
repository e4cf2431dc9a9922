"""The peer for bench:int8: onnxruntime's static quantization (onnxruntime.quantization.quantize_static,
QDQ format, per-channel weights, int8 activations and weights) of an fp32 ONNX model, calibrated on
the same preprocessed tensors fdk calibrates on (raw float32 files written by bench/int8.ts), padded to
one shape (see Tensors).

usage: python ort-quantize.py JOB.json     JOB = {model, out, calibrator, input, tensors: [{file, dims}]}
calibrator: minmax | entropy | percentile. Prints one JSON line {"ok": true, "seconds": ...}.
Dev only (needs onnxruntime in /work/venv-bench), never on fdk's runtime path.
"""
import json
import sys
import time

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static


class Tensors(CalibrationDataReader):
    """onnxruntime's histogram calibrators stack all batches, so every tensor must have one shape:
    each is zero-padded at the bottom/right to the largest H and W of the set (after fdk's
    preprocessing zero is the mean colour, i.e. a letterbox border)."""

    def __init__(self, name, tensors):
        self.name = name
        self.h = max(t["dims"][2] for t in tensors)
        self.w = max(t["dims"][3] for t in tensors)
        self.items = iter(tensors)

    def get_next(self):
        t = next(self.items, None)
        if t is None:
            return None
        a = np.fromfile(t["file"], dtype="<f4").reshape(t["dims"])
        out = np.zeros((1, a.shape[1], self.h, self.w), dtype=np.float32)
        out[:, :, : a.shape[2], : a.shape[3]] = a
        return {self.name: out}


# onnxruntime's Entropy default is 128 histogram bins searched for 128 quantized bins: one candidate,
# the full range, i.e. MinMax (measured: identical scales). 2048 bins as in ncnn2table / TensorRT.
CALIB_OPTIONS = {"entropy": {"CalibNumBins": 2048, "CalibNumQuantizedBins": 128}}

METHODS = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy, "percentile": CalibrationMethod.Percentile}


def main():
    job = json.load(open(sys.argv[1]))
    t0 = time.time()
    quantize_static(
        job["model"], job["out"], Tensors(job["input"], job["tensors"]),
        quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
        calibrate_method=METHODS[job["calibrator"]],
        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True, **CALIB_OPTIONS.get(job["calibrator"], {})},
    )
    print(json.dumps({"ok": True, "seconds": time.time() - t0}))


if __name__ == "__main__":
    main()
