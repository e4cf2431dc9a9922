// fdk's own binding to ncnn for WebAssembly: the handful of calls the ncnn-wasm runtime needs,
// exported as plain C symbols so that JS drives them through the module's heap (no embind, which
// would add size and a C++ ABI to the JS side).
//
// Life cycle, one Net per handle:
//   h = fdk_net_create(); fdk_net_set_options(h, ...); fdk_net_load(h, param, bin, binLen);
//   fdk_ex_begin(h); fdk_ex_input(h, name, data, dims, w, h, d, c) ...; fdk_ex_extract(h, name) ...;
//   fdk_ex_end(h); fdk_net_free(h);
// Errors are negative return codes; ncnn itself prints the reason (e.g. "layer X not exists or
// registered") to stderr, which the JS loader captures to build fdk's one-line error.
#include <cstdlib>
#include <cstring>
#include <emscripten.h>
#include "net.h"
#include "platform.h"

namespace {
struct Handle {
  ncnn::Net net;
  ncnn::Extractor* ex = nullptr;
  unsigned char* bin = nullptr;  // ncnn references weights in place: keep the bytes alive with the Net
  float* out = nullptr;          // last extracted blob, contiguous (ncnn pads channels to 16 bytes)
  int outDims[5] = {0, 0, 0, 0, 0};  // dims count, then w, h, d, c as ncnn names them
};
}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE Handle* fdk_net_create() { return new Handle(); }

// threads: ncnn's num_threads (only the pthreads build can use more than 1).
// packing: ncnn's elempack layouts (pack4 = one 128-bit SIMD lane per 4 channels).
EMSCRIPTEN_KEEPALIVE void fdk_net_set_options(Handle* h, int threads, int fp16Storage, int fp16Arithmetic, int packing) {
  ncnn::Option& o = h->net.opt;
  o.num_threads = threads < 1 ? 1 : threads;
  o.use_fp16_storage = fp16Storage != 0;
  o.use_fp16_packed = fp16Storage != 0;
  o.use_fp16_arithmetic = fp16Arithmetic != 0;
  o.use_packing_layout = packing != 0;
  o.use_vulkan_compute = false;
}

// param: NUL-terminated .param text. bin: the .bin bytes (copied, 16-byte aligned, kept with the Net).
// Returns 0, -1 when the param does not load (unknown layer type, syntax), -2 when the weights do not.
EMSCRIPTEN_KEEPALIVE int fdk_net_load(Handle* h, const char* param, const unsigned char* bin, int binLen) {
  if (h->net.load_param_mem(param) != 0) return -1;
  std::free(h->bin);
  h->bin = static_cast<unsigned char*>(aligned_alloc(16, (static_cast<size_t>(binLen) + 15) / 16 * 16 + 16));
  if (binLen > 0) std::memcpy(h->bin, bin, binLen);
  const size_t used = h->net.load_model(h->bin);
  if (binLen > 0 && used == 0) return -2;
  if (used != static_cast<size_t>(binLen)) return -3;  // .bin does not match the .param
  return 0;
}

EMSCRIPTEN_KEEPALIVE void fdk_ex_begin(Handle* h) {
  delete h->ex;
  h->ex = new ncnn::Extractor(h->net.create_extractor());
}

// data: `dims` dimensions in ncnn order (w, h, d, c), channels contiguous (NCHW without batch).
EMSCRIPTEN_KEEPALIVE int fdk_ex_input(Handle* h, const char* name, const float* data, int dims, int w, int hh, int d, int c) {
  ncnn::Mat m;
  if (dims == 1) m.create(w);
  else if (dims == 2) m.create(w, hh);
  else if (dims == 3) m.create(w, hh, c);
  else m.create(w, hh, d, c);
  if (m.empty()) return -1;
  const size_t plane = static_cast<size_t>(w) * (dims >= 2 ? hh : 1) * (dims == 4 ? d : 1);
  const int channels = dims >= 3 ? c : 1;
  for (int q = 0; q < channels; q++) std::memcpy(m.channel(q), data + plane * q, plane * sizeof(float));
  return h->ex->input(name, m);
}

// Extracts a blob as fp32, elempack 1, into a contiguous buffer read with fdk_out_data/fdk_out_dims.
EMSCRIPTEN_KEEPALIVE int fdk_ex_extract(Handle* h, const char* name) {
  ncnn::Mat m;
  const int r = h->ex->extract(name, m, 0);
  if (r != 0 || m.empty()) return r != 0 ? r : -1;
  const size_t plane = static_cast<size_t>(m.w) * m.h * m.d;
  std::free(h->out);
  h->out = static_cast<float*>(std::malloc(plane * m.c * sizeof(float)));
  for (int q = 0; q < m.c; q++) std::memcpy(h->out + plane * q, m.channel(q), plane * sizeof(float));
  h->outDims[0] = m.dims;
  h->outDims[1] = m.w;
  h->outDims[2] = m.h;
  h->outDims[3] = m.d;
  h->outDims[4] = m.c;
  return 0;
}

EMSCRIPTEN_KEEPALIVE const float* fdk_out_data(Handle* h) { return h->out; }
EMSCRIPTEN_KEEPALIVE const int* fdk_out_dims(Handle* h) { return h->outDims; }

EMSCRIPTEN_KEEPALIVE void fdk_ex_end(Handle* h) {
  delete h->ex;
  h->ex = nullptr;
  std::free(h->out);
  h->out = nullptr;
}

EMSCRIPTEN_KEEPALIVE void fdk_net_free(Handle* h) {
  if (!h) return;
  fdk_ex_end(h);
  h->net.clear();
  std::free(h->bin);
  delete h;
}

// What this build is, for `fdk bench --json` and the browser lane's report.
EMSCRIPTEN_KEEPALIVE const char* fdk_build_info() {
#if defined(__wasm_simd128__)
#define FDK_SIMD "simd"
#else
#define FDK_SIMD "basic"
#endif
#if NCNN_SIMPLEOMP || NCNN_OPENMP
#define FDK_THREADS "threads"
#else
#define FDK_THREADS "single"
#endif
  return "ncnn " NCNN_VERSION_STRING " " FDK_SIMD " " FDK_THREADS;
}
}
