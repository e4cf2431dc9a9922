"""Minimal standalone ncnn (PyPI) loop: the reference that `fdk bench` is compared with.
usage: python ncnn-standalone.py PARAM BIN THREADS DIMS(1x3x240x320) WARMUP RUNS
  -> prints {"median": ms per call, "p10": its 10th percentile, "cpu": process CPU ms per call over the timed loop}
Same ncnn options as fdk's worker (fp32, no Vulkan)."""
import json
import sys
import time

import ncnn
import numpy as np

param, binf, threads, dims, warmup, runs = sys.argv[1:7]
shape = [int(d) for d in dims.split("x")]
net = ncnn.Net()
net.opt.num_threads = int(threads)
net.opt.use_fp16_storage = False
net.opt.use_fp16_packed = False
net.opt.use_fp16_arithmetic = False
net.opt.use_bf16_storage = False
net.opt.use_vulkan_compute = False
assert net.load_param(param) == 0 and net.load_model(binf) == 0
inp = net.input_names()[0]
outs = net.output_names()
x = np.sin(np.arange(np.prod(shape), dtype=np.float32)).reshape(shape[1:])
mat = ncnn.Mat(x)


def once():
    ex = net.create_extractor()
    ex.input(inp, mat)
    for o in outs:
        ex.extract(o)


once()
for _ in range(int(warmup)):
    once()
ms = []
c0 = time.process_time()
for _ in range(int(runs)):
    t0 = time.perf_counter()
    once()
    ms.append((time.perf_counter() - t0) * 1000)
cpu = (time.process_time() - c0) * 1000 / int(runs)
ms.sort()
print(json.dumps({"median": ms[len(ms) // 2], "p10": ms[len(ms) // 10], "cpu": cpu}))
