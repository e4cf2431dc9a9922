"""Profiles ONNX files with onnx-tool (PyPI) and prints JSON: totals and per-op-type MACs/counts.

Usage: onnx-tool-profile.py INPUT_SHAPE FILE... (INPUT_SHAPE like 1x3x240x320, applied to the first
runtime input). Used by crosscheck-onnx-tool.mjs and bench-analyze.mjs.
"""
import json
import sys
import time

import numpy
import onnx_tool


def profile(path, shape):
    t0 = time.perf_counter()
    m = onnx_tool.Model(path)
    g = m.graph
    name = g.input[0]
    g.shape_infer({name: numpy.zeros(shape, dtype=numpy.float32)})
    g.profile()
    by_op = {}
    for node in g.nodemap.values():
        s = by_op.setdefault(node.op_type, {'count': 0, 'macs': 0, 'params': 0})
        s['count'] += 1
        s['macs'] += int(node.macs[0])
        s['params'] += int(node.params)
    return {
        'file': path,
        'macs': int(g.macs[0]),
        'params': int(g.params),
        'byOp': by_op,
        'seconds': time.perf_counter() - t0,
    }


def main():
    shape = [int(d) for d in sys.argv[1].split('x')]
    print(json.dumps([profile(p, shape) for p in sys.argv[2:]]))


if __name__ == '__main__':
    main()
