"""fdk int8 calibration helper: runs the real ncnn (PyPI `ncnn`) over preprocessed calibration
tensors and returns statistics of named blobs. One job per process: a JSON request on stdin, one
JSON reply on stdout ({"ok": true, ...} or {"ok": false, "error": "one line"}).

Jobs:
  stats  {param, bin, input, tensors: [{file, dims}], blobs: [names], bins}
         ncnn2table's two passes: max |x| of every blob over all tensors, then a `bins`-bin
         histogram of |x| / absmax (zeros not counted) -> {blobs: {name: {absmax, total, histogram}}}
  drift  {fp32: {param, bin}, int8: {param, bin}, input, tensors, blobs: [names]}
         every blob from both models on the same input (int8 with use_int8_inference) ->
         {blobs: {name: {cosine, rel_l2}}} averaged over the tensors
  gain   {fp32: {param, bin}, variants: [{param, bin}], input, tensors}
         end-to-end closeness of int8 variants (e.g. the all-int8 model and, for each layer, the
         same model with that layer kept fp32) to fp32: cosine similarity of every model output,
         averaged over outputs and tensors -> {cosine: [per variant]}
  eq     {fp32: {param, bin}, input, tensors, factors: [f], dir,
          layers: [{name, bottom, top, param, bin, scale}]}
         ncnn2table's `eq` search of each layer's bottom-blob scale: every layer alone (a one-layer
         int8 model, its bottom-blob scale the last float of its .bin) runs on the fp32 model's
         input of that layer with scale * f for every f; the cosine similarity of its output with
         the fp32 output, averaged over the tensors -> {layers: {name: {factor, cosine, base}}}

Tensors are raw little-endian float32 files with dims [1, C, H, W] (written by fdk's TypeScript
side, which preprocesses images by the model's own description).
"""
import json
import os
import sys

# stdout carries the one JSON reply; ncnn may print, so its output goes to stderr
_OUT = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)


def reply(obj):
    _OUT.write(json.dumps(obj))
    _OUT.flush()


def load_net(param, binpath, int8):
    import ncnn
    net = ncnn.Net()
    net.opt.num_threads = 1
    net.opt.use_vulkan_compute = False
    net.opt.use_int8_inference = bool(int8)
    # fp32 reference without fp16/bf16 storage so statistics are those of the fp32 model
    net.opt.use_fp16_storage = False
    net.opt.use_fp16_packed = False
    net.opt.use_fp16_arithmetic = False
    net.opt.use_bf16_storage = False
    if net.load_param(param) != 0:
        raise FileError(param, "ncnn cannot parse the .param file")
    if net.load_model(binpath) != 0:
        raise FileError(binpath, "ncnn cannot load the .bin weights")
    return net


class FileError(Exception):
    def __init__(self, file, msg):
        super().__init__(msg)
        self.file = file


def read_tensor(t):
    import numpy as np
    a = np.fromfile(t["file"], dtype="<f4").reshape(t["dims"])
    return a[0] if a.ndim == 4 else a


def run_blobs(net, input_name, arr, names):
    import ncnn
    import numpy as np
    ex = net.create_extractor()
    ex.set_light_mode(False)  # keep every intermediate so in-place layers do not overwrite them
    ex.input(input_name, ncnn.Mat(np.ascontiguousarray(arr, dtype=np.float32)).clone())
    out = {}
    for n in names:
        rc, m = ex.extract(n)
        if rc != 0:
            raise ValueError(f"ncnn extract('{n}') failed with code {rc}")
        out[n] = np.array(m, dtype=np.float32)
    return out


def stats(req):
    import numpy as np
    net = load_net(req["param"], req["bin"], False)
    names, bins = req["blobs"], int(req.get("bins", 2048))
    absmax = {n: np.float32(0) for n in names}
    totals = {n: 0 for n in names}
    for t in req["tensors"]:
        outs = run_blobs(net, req["input"], read_tensor(t), names)
        for n, a in outs.items():
            absmax[n] = max(absmax[n], np.float32(np.abs(a).max()) if a.size else np.float32(0))
            totals[n] += a.size
    hist = {n: np.zeros(bins, dtype=np.int64) for n in names}
    for t in req["tensors"]:
        outs = run_blobs(net, req["input"], read_tensor(t), names)
        for n, a in outs.items():
            if absmax[n] == 0:
                continue
            v = np.abs(a.ravel())
            v = v[v != 0]
            # same float32 arithmetic as ncnn2table: (int)(fabs(x) / absmax * bins), clamped
            idx = np.minimum((v / absmax[n] * np.float32(bins)).astype(np.int64), bins - 1)
            hist[n] += np.bincount(idx, minlength=bins)
    k = max(1, len(req["tensors"]))
    return {"blobs": {n: {"absmax": float(absmax[n]), "total": int(round(totals[n] / k)),
                          "histogram": hist[n].tolist()} for n in names}}


def drift(req):
    import numpy as np
    ref = load_net(req["fp32"]["param"], req["fp32"]["bin"], False)
    q = load_net(req["int8"]["param"], req["int8"]["bin"], True)
    names = req["blobs"]
    acc = {n: [0.0, 0.0] for n in names}
    for t in req["tensors"]:
        x = read_tensor(t)
        a_out = run_blobs(ref, req["input"], x, names)
        b_out = run_blobs(q, req["input"], x, names)
        for n in names:
            a = a_out[n].ravel().astype(np.float64)
            b = b_out[n].ravel().astype(np.float64)
            na, nb = np.linalg.norm(a), np.linalg.norm(b)
            cos = float(a @ b / (na * nb)) if na > 0 and nb > 0 else (1.0 if na == nb else 0.0)
            rel = float(np.linalg.norm(a - b) / na) if na > 0 else float(np.linalg.norm(b))
            acc[n][0] += cos
            acc[n][1] += rel
    k = max(1, len(req["tensors"]))
    return {"blobs": {n: {"cosine": acc[n][0] / k, "rel_l2": acc[n][1] / k} for n in names}}


def gain(req):
    """Mean output cosine against fp32 of each int8 variant (what mixed precision ranks layers by)."""
    import numpy as np
    ref = load_net(req["fp32"]["param"], req["fp32"]["bin"], False)
    outs = list(ref.output_names())
    # the fp32 outputs of every tensor once (small: detection heads), then one variant at a time
    refs = [{n: v.ravel().astype(np.float64) for n, v in run_blobs(ref, req["input"], read_tensor(t), outs).items()}
            for t in req["tensors"]]
    sims = []
    for v in req["variants"]:
        net = load_net(v["param"], v["bin"], True)
        total = 0.0
        for t, a in zip(req["tensors"], refs):
            b = run_blobs(net, req["input"], read_tensor(t), outs)
            for n in outs:
                u, w = a[n], b[n].ravel().astype(np.float64)
                nu, nw = np.linalg.norm(u), np.linalg.norm(w)
                total += (float(u @ w / (nu * nw)) if nu > 0 and nw > 0 else (1.0 if nu == nw else 0.0)) / len(outs)
        net.clear()
        sims.append(total / max(1, len(refs)))
    return {"cosine": sims}


def eq(req):
    """Per layer, the bottom-blob scale factor whose int8 output is closest (cosine) to fp32."""
    import numpy as np
    ref = load_net(req["fp32"]["param"], req["fp32"]["bin"], False)
    factors = [float(f) for f in req["factors"]]
    nets = {}
    for li, l in enumerate(req["layers"]):
        raw = bytearray(open(l["bin"], "rb").read())
        for fi, f in enumerate(factors):
            # the bottom-blob scale is the last float32 of a one-layer int8 model's .bin
            raw[-4:] = np.float32(l["scale"] * f).tobytes()
            path = os.path.join(req["dir"], f"eq-{li}-{fi}.bin")
            with open(path, "wb") as fh:
                fh.write(raw)
            nets[(li, fi)] = load_net(l["param"], path, True)
    names = sorted({n for l in req["layers"] for n in (l["bottom"], l["top"])})
    sims = np.zeros((len(req["layers"]), len(factors)))
    for t in req["tensors"]:
        blobs = run_blobs(ref, req["input"], read_tensor(t), names)
        for li, l in enumerate(req["layers"]):
            a = blobs[l["top"]].ravel().astype(np.float64)
            na = np.linalg.norm(a)
            for fi in range(len(factors)):
                b = run_blobs(nets[(li, fi)], l["bottom"], blobs[l["bottom"]], [l["top"]])[l["top"]].ravel().astype(np.float64)
                nb = np.linalg.norm(b)
                sims[li, fi] += float(a @ b / (na * nb)) if na > 0 and nb > 0 else (1.0 if na == nb else 0.0)
    sims /= max(1, len(req["tensors"]))
    base = factors.index(1.0) if 1.0 in factors else None
    out = {}
    for li, l in enumerate(req["layers"]):
        best = int(np.argmax(sims[li]))  # first maximum, as ncnn2table
        out[l["name"]] = {"factor": factors[best], "cosine": float(sims[li, best]),
                          "base": float(sims[li, base]) if base is not None else None}
    return {"layers": out}


def main():
    try:
        req = json.loads(sys.stdin.read())
        job = {"stats": stats, "drift": drift, "gain": gain, "eq": eq}.get(req.get("job"))
        if job is None:
            raise ValueError(f"unknown job {req.get('job')!r}")
        reply({"ok": True, **job(req)})
    except FileError as e:
        reply({"ok": False, "error": str(e), "file": e.file})
    except Exception as e:  # one line back to fdk
        import traceback
        traceback.print_exc(file=sys.stderr)
        reply({"ok": False, "error": str(e).replace("\n", " ")})


if __name__ == "__main__":
    main()
