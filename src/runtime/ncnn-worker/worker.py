"""fdk ncnn worker: runs the real ncnn (PyPI package `ncnn`) for fdk, one model per process.

Protocol (stdin -> requests, stdout -> responses), every message is one frame:
    u32 LE  frame length (bytes after this field)
    u32 LE  header length H
    H bytes UTF-8 JSON header
    rest    tensor payload: float32 little-endian arrays, concatenated in header order

A header lists its tensors as {"tensors": [{"name", "dims", "bytes"}...]} in payload order.

Shared-memory transport (`--shm-fd N`, fdk's default, see src/runtime/ncnn-shm.ts): fd N is an
already unlinked tmpfs file shared with fdk. A header with "shm": true has no payload; each tensor
meta carries an "offset" into that file instead. Requests come that way from fdk, and every reply
with tensors goes back that way (64-byte aligned offsets, after the request's own tensors; the file
is grown as needed).

Requests ({"op": ...}):
    info                                  -> {ncnn, numpy, python}
    load   {param, bin, threads, fp16}    -> {inputs, outputs, blobs, layers}
    run    {outputs?} + input tensors     -> output tensors + {ms}
    run_many {items, outputs?} + items x input tensors
                                          -> items x output tensors + {ms: [per item]}
    extract{names, keep?, resume?} + input tensors
                                          -> the named blobs (any intermediate blob) + {ms}; "keep"
                                             keeps the extractor, and a next extract with "resume"
                                             (no tensors) continues from its computed blobs, so
                                             fdk can compare one part while the next is computed
    blobs                                 -> {blobs: [...], layers: [{name,type,bottoms,tops}]}
    stats                                 -> {rss_kb, peak_rss_kb}
    release                               -> {} and the process exits
Responses carry {"ok": true, ...} or {"ok": false, "error": "one line"}.

Shapes: ncnn Mats have no batch axis. An input [1,C,H,W] becomes Mat(w=W,h=H,c=C) (the leading 1 is
dropped; batch > 1 is an error). Every returned blob gets a leading 1 in front of its ncnn shape
(c,h,w) / (h,w) / (w), so ncnn [N,4] comes back as [1,N,4], matching the ONNX dims of batch-1
exports. The ncnn shape itself is returned as "ncnn_dims".

Profiling: with FDK_NCNN_PROFILE=1 in its environment the worker adds "prof" to each reply, the
CLOCK_MONOTONIC time in ns (the clock Node's process.hrtime uses) at each step of the request:
woke (the request's bytes were read), parsed (header and input views), mats (ncnn Mats filled),
forward (ncnn done), written (outputs in the reply region), replied (just before the reply frame
is written). perf/ncnn-steps.ts pairs them with fdk's own marks.

Timing ("ms") is measured here, around extractor creation, input and extraction of all requested
blobs, so the transfer to and from fdk is not counted. "cpu_ms" is the CPU time the worker process
spent in the same span (all its threads): on a machine shared with other work the wall time measures
the neighbours too, the CPU time mostly what ncnn did.
"""
import json
import mmap
import os
import resource
import struct
import sys
import time
import traceback

PROFILE = os.environ.get("FDK_NCNN_PROFILE") == "1"
# marks of the current request (profiling only)
MARKS = {}


def mark(step):
    if PROFILE:
        MARKS[step] = time.clock_gettime_ns(time.CLOCK_MONOTONIC)

# Keep stdout for frames only: ncnn (C++) and Python may print; send all of that to stderr.
_OUT = os.fdopen(os.dup(1), "wb", buffering=0)
os.dup2(2, 1)
sys.stdout = sys.stderr
_IN = sys.stdin.buffer

try:
    import numpy as np
    import ncnn
except Exception as e:  # reported to fdk as the first frame-level error
    _IMPORT_ERROR = f"cannot import ncnn/numpy in the worker venv: {e}"
else:
    _IMPORT_ERROR = None


def read_exact(n):
    buf = bytearray()
    while len(buf) < n:
        chunk = _IN.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class Shm:
    """The region shared with fdk (see the module docstring). The mapping follows the file's size,
    which fdk (writing inputs, giving back a large region) and this worker (growing it for a reply)
    both change; views of an old mapping keep it alive until they are dropped."""

    def __init__(self, fd):
        self.fd = fd
        self.mm = None
        self.size = 0
        # replies go after the request's tensors, so that no reply ever overwrites memory an input
        # Mat might still wrap
        self.input_end = 0

    def _sync(self, need=0):
        size = os.fstat(self.fd).st_size
        if size < need:
            os.ftruncate(self.fd, need)
            size = need
        if size != self.size or self.mm is None:
            self.mm = mmap.mmap(self.fd, size) if size else None
            self.size = size

    def read(self, metas):
        """Zero-copy float32 views of the request's tensors (inputs are copied into ncnn Mats)."""
        self._sync()
        self.input_end = max([(t["offset"] + t["bytes"] + 63) // 64 * 64 for t in metas] or [0])
        return [(t["name"], np.frombuffer(self.mm, dtype="<f4", count=t["bytes"] // 4, offset=t["offset"]).reshape(t["dims"]))
                for t in metas]

    def write(self, tensors):
        """tensors: list of (name, dims, ncnn_dims, ndarray); returns their metas with offsets."""
        metas, off = [], self.input_end
        for name, dims, ncnn_dims, arr in tensors:
            n = arr.size * 4
            metas.append({"name": name, "dims": dims, "ncnn_dims": ncnn_dims, "bytes": n, "offset": off})
            off = (off + n + 63) // 64 * 64
        self._sync(off)
        for m, (_n, _d, _nd, arr) in zip(metas, tensors):
            if m["bytes"]:
                dst = np.frombuffer(self.mm, dtype="<f4", count=arr.size, offset=m["offset"]).reshape(arr.shape)
                np.copyto(dst, arr, casting="unsafe")
        mark("written")
        return metas


SHM = None


def read_frame():
    head = read_exact(4)
    if head is None:
        return None
    mark("woke")
    (length,) = struct.unpack("<I", head)
    body = read_exact(length)
    if body is None:
        return None
    (hlen,) = struct.unpack("<I", body[:4])
    header = json.loads(body[4 : 4 + hlen].decode("utf-8"))
    if SHM is not None:
        SHM.input_end = 0
    if header.get("shm"):
        return header, SHM.read(header.get("tensors", []))
    payload = memoryview(body)[4 + hlen :]
    tensors = []
    off = 0
    for t in header.get("tensors", []):
        n = t["bytes"]
        tensors.append((t["name"], np.frombuffer(payload[off : off + n], dtype="<f4").reshape(t["dims"])))
        off += n
    return header, tensors


def write_all(data):
    """The unbuffered stdout may take a large write in parts."""
    view = memoryview(data)
    while len(view):
        n = _OUT.write(view)
        view = view[n:]


def write_frame(header, tensors=()):
    """tensors: list of (name, dims, ncnn_dims, float32 ndarray, possibly a view of an ncnn Mat)."""
    header = dict(header)
    chunks = []
    if tensors and SHM is not None:
        header["shm"] = True
        header["tensors"] = SHM.write(tensors)
    elif tensors:
        metas = []
        for name, dims, ncnn_dims, arr in tensors:
            data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
            metas.append({"name": name, "dims": dims, "ncnn_dims": ncnn_dims, "bytes": len(data)})
            chunks.append(data)
        header["tensors"] = metas
    if PROFILE:
        mark("replied")
        header["prof"] = dict(MARKS)
        MARKS.clear()
    h = json.dumps(header).encode("utf-8")
    body_len = 4 + len(h) + sum(len(c) for c in chunks)
    # one write per tensor: joining a per-layer reply (hundreds of MB) first would copy it again
    write_all(struct.pack("<II", body_len, len(h)) + h)
    for c in chunks:
        write_all(c)


class FileError(Exception):
    """An error about one file: fdk prints it as 'FILE: problem'."""

    def __init__(self, file, msg):
        super().__init__(msg)
        self.file = file


class Worker:
    def __init__(self):
        self.net = None
        # (extractor, input mats) kept by 'extract' with "keep" for the next 'extract' with "resume"
        self.kept = None
        self._last = None
        # input name -> (shape, ncnn.Mat) reused from request to request (see _mats)
        self.input_mats = {}

    def info(self, _req, _t):
        return {"ncnn": getattr(ncnn, "__version__", "unknown"), "numpy": np.__version__,
                "python": sys.version.split()[0], "pid": os.getpid()}, []

    def load(self, req, _t):
        net = ncnn.Net()
        opt = net.opt
        opt.num_threads = int(req.get("threads", 1))
        fp16 = bool(req.get("fp16", False))
        opt.use_fp16_storage = fp16
        opt.use_fp16_packed = fp16
        opt.use_fp16_arithmetic = fp16
        opt.use_bf16_storage = False
        opt.use_vulkan_compute = False
        if net.load_param(req["param"]) != 0:
            raise FileError(req["param"], "ncnn cannot parse the .param file")
        if net.load_model(req["bin"]) != 0:
            raise FileError(req["bin"], "ncnn cannot load the .bin weights (truncated, or not matching the .param)")
        self.net = net
        self.threads = opt.num_threads
        return {"inputs": list(net.input_names()), "outputs": list(net.output_names()),
                "ncnn": getattr(ncnn, "__version__", "unknown"), "python": sys.version.split()[0], **self._graph()}, []

    def _graph(self):
        blobs = [b.name for b in self.net.blobs()]
        layers = [{"name": l.name, "type": l.type, "bottoms": [blobs[i] for i in l.bottoms],
                   "tops": [blobs[i] for i in l.tops]} for l in self.net.layers()]
        return {"blobs": blobs, "layers": layers}

    def blobs(self, _req, _t):
        self._need_net()
        return self._graph(), []

    def _need_net(self):
        if self.net is None:
            raise ValueError("no model loaded")

    def _mats(self, inputs):
        known = set(self.net.input_names())
        mats = {}
        for name, arr in inputs.items():
            if name not in known:
                raise ValueError(f"model has no input '{name}' (inputs: {', '.join(sorted(known))})")
            a = arr
            if a.ndim >= 2:
                if a.shape[0] != 1:
                    raise ValueError(f"input '{name}': ncnn has no batch axis, batch must be 1 (got {list(a.shape)})")
                a = a[0]
            if a.ndim > 4:
                raise ValueError(f"input '{name}': rank {arr.ndim} is more than ncnn supports")
            # ncnn.Mat(ndarray) would wrap numpy's memory without a reference count; a first layer
            # that works in place on the input then crashes ncnn (a Relu-only model segfaults in
            # light mode even on writable memory that stays mapped, such as the shared region), or
            # writes into freed memory. So ncnn gets a Mat it owns: one per input, allocated once
            # and refilled by each request (a fresh clone per call cost a 1 MB allocation, page
            # faults included). ncnn itself copies it before an in-place layer changes it (its
            # reference count is > 1 while we hold it), so a refill is all a new request needs.
            a = a.reshape(a.shape or (1,))
            held = self.input_mats.get(name)
            if held is None or held[0] != a.shape:
                held = (a.shape, ncnn.Mat(*reversed(a.shape)))  # numpy's view of it has a's shape
                self.input_mats[name] = held
            np.copyto(np.array(held[1], copy=False), a, casting="unsafe")
            mats[name] = held[1]
        return mats

    def _forward(self, inputs, names, keep_intermediates, resume=False):
        self._need_net()
        if resume:
            # the extractor of the previous 'extract' with "keep": its blobs are computed already,
            # later ones are computed from them
            if self.kept is None:
                raise ValueError("no extraction to continue")
            ex, mats = self.kept
        else:
            self.kept = None
            mats = self._mats(inputs)
        results = []
        mark("mats")
        t0 = time.perf_counter()
        c0 = time.process_time()
        if not resume:
            ex = self.net.create_extractor()
            # lightmode frees intermediate blobs; turn it off when extracting several intermediates so
            # each is computed once and in-place layers don't overwrite the blobs we still want.
            ex.set_light_mode(not keep_intermediates)
            for name, m in mats.items():
                ex.input(name, m)
        for name in names:
            rc, m = ex.extract(name)
            if rc != 0:
                raise ValueError(f"ncnn extract('{name}') failed with code {rc}")
            results.append((name, m))
        ms = (time.perf_counter() - t0) * 1000.0
        self._cpu_ms = (time.process_time() - c0) * 1000.0
        mark("forward")
        self._last = (ex, mats)
        out = []
        for name, m in results:
            # a view of the Mat (its memory stays alive through `m`); copied once, into the reply
            a = np.asarray(m)
            ncnn_dims = list(a.shape)
            out.append((name, [1] + ncnn_dims, ncnn_dims, a))
        return ms, out

    def run(self, req, tensors):
        self._need_net()
        outputs = list(self.net.output_names())
        names = req.get("outputs") or outputs
        # a blob other layers consume (an ONNX output that is also read further on) is recycled
        # in light mode once its consumers ran: keep intermediates when one is asked for
        ms, out = self._forward(tensors, names, any(n not in outputs for n in names))
        return {"ms": ms, "cpu_ms": self._cpu_ms}, out

    def run_many(self, req, tensors):
        """Several inputs in one request (batching without a batch axis): the request carries
        `items` groups of input tensors one after the other, each group one forward pass; the reply
        carries each pass's outputs in the same order, and "ms" is the list of their timings."""
        self._need_net()
        items = int(req["items"])
        if items < 1 or len(tensors) % items:
            raise ValueError(f"run_many: {len(tensors)} input tensors do not split into {items} items")
        per = len(tensors) // items
        outputs = list(self.net.output_names())
        names = req.get("outputs") or outputs
        mss, outs = [], []
        for i in range(items):
            ms, out = self._forward(dict(tensors[i * per : (i + 1) * per]), names, any(n not in outputs for n in names))
            # the outputs stay valid while the next item refills the input Mats: ncnn hands out an
            # input blob as a copy (test/ncnn-transport.test.ts asks for one and checks)
            mss.append(ms)
            outs += out
        return {"ms": mss}, outs

    def extract(self, req, tensors):
        self._need_net()
        known = {b.name for b in self.net.blobs()}
        missing = [n for n in req["names"] if n not in known]
        if missing:
            raise ValueError(f"no such ncnn blob(s): {', '.join(missing[:5])}")
        resume = bool(req.get("resume"))
        ms, out = self._forward(tensors, req["names"], True, resume)
        if req.get("keep"):
            if not resume:
                self.kept = self._last
        else:
            self.kept = None
        return {"ms": ms}, out

    def stats(self, _req, _t):
        return {"rss_kb": current_rss_kb(), "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, []


def current_rss_kb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    global SHM
    if "--shm-fd" in sys.argv:
        SHM = Shm(int(sys.argv[sys.argv.index("--shm-fd") + 1]))
    w = Worker()
    while True:
        frame = read_frame()
        if frame is None:
            return  # fdk closed the pipe: exit quietly
        header, tensors = frame
        mark("parsed")
        op = header.get("op")
        if _IMPORT_ERROR:
            write_frame({"ok": False, "error": _IMPORT_ERROR})
            continue
        try:
            if op == "release":
                write_frame({"ok": True})
                return
            fn = getattr(w, op, None) if op in ("info", "load", "run", "run_many", "extract", "blobs", "stats") else None
            if fn is None:
                raise ValueError(f"unknown op {op!r}")
            reply, out = fn(header, tensors if op == "run_many" else dict(tensors))
            write_frame({"ok": True, **reply}, out)
        except Exception as e:  # one line back to fdk; details on stderr for --debug
            traceback.print_exc(file=sys.stderr)
            reply = {"ok": False, "error": str(e).replace("\n", " ")}
            if isinstance(e, FileError):
                reply["file"] = e.file
            write_frame(reply)


if __name__ == "__main__":
    main()
