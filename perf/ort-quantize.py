"""The peer for bench:int8: onnxruntime's static quantization (onnxruntime.quantization.quantize_static,
QDQ format, per-channel weights, int8 activations and weights) of an fp32 ONNX model, calibrated on
the same preprocessed tensors fdk calibrates on (raw float32 files written by bench/int8.ts), one image
at a time (see Tensors).

usage: python ort-quantize.py JOB.json     JOB = {model, out, calibrator, input, tensors: [{file, dims}]}
calibrator: minmax | entropy | percentile. Prints one JSON line {"ok": true, "seconds": ...}.
Dev only (needs onnxruntime in /work/venv-bench), never on fdk's runtime path.
"""
import importlib
import json
import sys
import time

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

# the module, not the function of the same name that onnxruntime.quantization exports
quantize_module = importlib.import_module("onnxruntime.quantization.quantize")


class Tensors(CalibrationDataReader):
    """One preprocessed image per batch, each at its own letterboxed shape (no padding).

    onnxruntime's histogram calibrators stack the batches they collect in one call, and keep every
    intermediate output of every batch until then (11 GB for slim at 320 with 200 images). Its own
    `CalibStridedMinMax` option calls the calibrator once per `stride` batches through `set_range`;
    the calibrators merge their ranges / histograms across calls. A stride of 1 keeps memory at one
    image and lets every image keep its own shape."""

    def __init__(self, name, tensors):
        self.name = name
        self.tensors = tensors
        self.items = iter(tensors)

    def __len__(self):
        return len(self.tensors)

    def set_range(self, start_index, end_index):
        self.items = iter(self.tensors[start_index:end_index])

    def get_next(self):
        t = next(self.items, None)
        if t is None:
            return None
        return {self.name: np.fromfile(t["file"], dtype="<f4").reshape(t["dims"])}


# quantize_static passes only some calibrator options through (not the histogram sizes), and
# onnxruntime's Entropy default is 128 histogram bins searched for 128 quantized bins: one
# candidate, the full range, i.e. MinMax (measured: identical scales). Its create_calibrator takes
# num_bins, so it is wrapped to give Entropy more bins. Not ncnn2table's 2048: onnxruntime's threshold
# search sums the histogram in plain Python for every candidate, ~3 s per tensor at 2048 bins (slim
# at 320 with 10 images had not finished in 10 minutes on the shared machine); 512 bins give 193
# candidate thresholds in steps of 1/256 of the range. Percentile keeps its defaults (2048 bins,
# 99.999th percentile).
CALIB_OPTIONS = {"entropy": {"num_bins": 512, "num_quantized_bins": 128}}

METHODS = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy, "percentile": CalibrationMethod.Percentile}


def with_calib_options(extra):
    original = quantize_module.create_calibrator

    def create(*args, extra_options=None, **kwargs):
        return original(*args, extra_options={**(extra_options or {}), **extra}, **kwargs)

    quantize_module.create_calibrator = create


def main():
    job = json.load(open(sys.argv[1]))
    t0 = time.time()
    with_calib_options(CALIB_OPTIONS.get(job["calibrator"], {}))
    quantize_static(
        job["model"], job["out"], Tensors(job["input"], job["tensors"]),
        quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
        calibrate_method=METHODS[job["calibrator"]],
        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True, "CalibStridedMinMax": 1},
    )
    print(json.dumps({"ok": True, "seconds": time.time() - t0}))


if __name__ == "__main__":
    main()
