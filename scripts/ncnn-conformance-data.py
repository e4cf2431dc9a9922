"""Writes ONNX's own backend node tests (from the installed `onnx` package's test case
definitions; the PyPI wheel ships the generators, not the data) for the given op types:
OUT/<test name>/model.onnx and test_data_set_N/{input,output}_K.pb.
Usage: python scripts/ncnn-conformance-data.py OUT OP [OP...]"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.test.case import node as node_cases


def main() -> None:
    out, ops = sys.argv[1], set(sys.argv[2:])
    os.makedirs(out, exist_ok=True)
    n = 0
    for case in node_cases.collect_testcases(None):
        model = case.model
        if model is None or not case.data_sets:
            continue
        types = {nd.op_type for nd in model.graph.node}
        if len(model.graph.node) != 1 or not (types & ops):
            continue
        if any(not i.type.HasField("tensor_type") for i in list(model.graph.input) + list(model.graph.output)):
            continue
        d = os.path.join(out, case.name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(model.SerializeToString())
        for k, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(d, f"test_data_set_{k}")
            os.makedirs(ds, exist_ok=True)
            for kind, values, infos in (("input", inputs, model.graph.input), ("output", outputs, model.graph.output)):
                for j, v in enumerate(values):
                    t = v if isinstance(v, onnx.TensorProto) else numpy_helper.from_array(np.asarray(v), infos[j].name)
                    with open(os.path.join(ds, f"{kind}_{j}.pb"), "wb") as f:
                        f.write(t.SerializeToString())
        n += 1
    print(n)


if __name__ == "__main__":
    main()
