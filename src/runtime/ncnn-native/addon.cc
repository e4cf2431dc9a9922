// fdk's in-process ncnn binding for Node (N-API): ncnn built natively from the same PyPI source
// distribution as the `ncnn` wheel (scripts/build-ncnn-native.sh), linked statically into this
// addon, so a forward pass runs on Node's own thread with no worker process and no transfer.
// It exists to measure what the worker's process boundary costs (`npm run bench:overhead`, lane
// "ncnn in-process"); the `ncnn` runtime itself still runs the PyPI wheel in its worker.
//
// JS API (src/runtime/ncnn-native.ts wraps it):
//   load(param, bin, threads, fp16) -> handle     throws Error("param: ..." | "bin: ...")
//   names(handle) -> [inputs[], outputs[]]        ncnn's input_names() / output_names()
//   run(handle, inNames[], inData[] (Float32Array), inShapes[] (ncnn order w,h,d,c, no batch),
//       outNames[]) -> [ms, outData[] (Float32Array), outShapes[] (ncnn c,d,h,w order, as numpy shows)]
//   free(handle)                                   (also done by the handle's finalizer)
// Options match the Python worker's (fp32 unless fp16, no Vulkan, ncnn's defaults otherwise), and a
// run times extractor creation, inputs and extraction, as the worker and the standalone loop do.
#include <node_api.h>

#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "net.h"
#include "platform.h"

namespace {

struct Handle {
  ncnn::Net net;
  // per input name: the Mat an input with padded channel planes is copied into (see Run)
  std::map<std::string, ncnn::Mat> inputs;
  bool freed = false;
};

#define CHECK(call)                                              \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error(env, nullptr, "ncnn-native: N-API call failed: " #call); \
      return nullptr;                                            \
    }                                                            \
  } while (0)

std::string str(napi_env env, napi_value v) {
  size_t n = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &n);
  std::string s(n, '\0');
  napi_get_value_string_utf8(env, v, &s[0], n + 1, &n);
  return s;
}

bool strings(napi_env env, napi_value arr, std::vector<std::string>& out) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return false;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok) return false;
    out.push_back(str(env, e));
  }
  return true;
}

Handle* handleOf(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p || static_cast<Handle*>(p)->freed) {
    napi_throw_error(env, nullptr, "ncnn-native: the model was released");
    return nullptr;
  }
  return static_cast<Handle*>(p);
}

void finalize(napi_env, void* data, void*) { delete static_cast<Handle*>(data); }

napi_value Load(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  const std::string param = str(env, argv[0]), bin = str(env, argv[1]);
  int32_t threads = 1;
  bool fp16 = false;
  napi_get_value_int32(env, argv[2], &threads);
  napi_get_value_bool(env, argv[3], &fp16);
  Handle* h = new Handle();
  ncnn::Option& o = h->net.opt;
  o.num_threads = threads < 1 ? 1 : threads;
  o.use_fp16_storage = fp16;
  o.use_fp16_packed = fp16;
  o.use_fp16_arithmetic = fp16;
  o.use_bf16_storage = false;
  o.use_vulkan_compute = false;
  if (h->net.load_param(param.c_str()) != 0) {
    delete h;
    napi_throw_error(env, nullptr, ("param: ncnn cannot parse the .param file " + param).c_str());
    return nullptr;
  }
  if (h->net.load_model(bin.c_str()) != 0) {
    delete h;
    napi_throw_error(env, nullptr, ("bin: ncnn cannot load the .bin weights " + bin).c_str());
    return nullptr;
  }
  napi_value ext;
  CHECK(napi_create_external(env, h, finalize, nullptr, &ext));
  return ext;
}

napi_value StringArray(napi_env env, const std::vector<const char*>& v) {
  napi_value arr;
  if (napi_create_array_with_length(env, v.size(), &arr) != napi_ok) return nullptr;
  for (size_t i = 0; i < v.size(); i++) {
    napi_value s;
    napi_create_string_utf8(env, v[i], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, arr, i, s);
  }
  return arr;
}

napi_value Names(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Handle* h = handleOf(env, argv[0]);
  if (!h) return nullptr;
  napi_value out;
  CHECK(napi_create_array_with_length(env, 2, &out));
  napi_set_element(env, out, 0, StringArray(env, h->net.input_names()));
  napi_set_element(env, out, 1, StringArray(env, h->net.output_names()));
  return out;
}

napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Handle* h = handleOf(env, argv[0]);
  if (!h) return nullptr;
  std::vector<std::string> inNames, outNames;
  if (!strings(env, argv[1], inNames) || !strings(env, argv[4], outNames)) {
    napi_throw_type_error(env, nullptr, "ncnn-native: names must be arrays of strings");
    return nullptr;
  }
  // Inputs are used where they are, in the Float32Array's memory (no copy, as the standalone
  // Python loop does with ncnn.Mat(ndarray)), when ncnn's layout of the Mat is the array's: no
  // padding between channel planes. Such a Mat gets a reference count that never drops to zero
  // (`pinned`, declared before every Mat so it outlives them): ncnn then never frees the memory,
  // and copies the blob before an in-place layer would write into it, as for any shared blob (a
  // Mat over foreign memory without a count would make ncnn dereference a null count there).
  // Otherwise the input is copied into a Mat kept per input and shape, refilled by each call
  // (a fresh 1 MB Mat per call cost its page faults every time).
  int pinned = 2;
  std::vector<ncnn::Mat> mats;
  for (uint32_t i = 0; i < inNames.size(); i++) {
    napi_value data, shape;
    napi_get_element(env, argv[2], i, &data);
    napi_get_element(env, argv[3], i, &shape);
    napi_typedarray_type type;
    size_t length = 0;
    void* p = nullptr;
    if (napi_get_typedarray_info(env, data, &type, &length, &p, nullptr, nullptr) != napi_ok || type != napi_float32_array) {
      napi_throw_type_error(env, nullptr, "ncnn-native: input data must be a Float32Array");
      return nullptr;
    }
    uint32_t dims = 0;
    napi_get_array_length(env, shape, &dims);
    int v[4] = {1, 1, 1, 1};  // ncnn order: (w), (w, h), (w, h, c) or (w, h, d, c)
    for (uint32_t k = 0; k < dims && k < 4; k++) {
      napi_value e;
      napi_get_element(env, shape, k, &e);
      napi_get_value_int32(env, e, &v[k]);
    }
    const int W = v[0], H = dims >= 2 ? v[1] : 1, D = dims == 4 ? v[2] : 1, C = dims == 3 ? v[2] : dims == 4 ? v[3] : 1;
    const size_t plane = static_cast<size_t>(W) * H * D;
    if (dims < 1 || dims > 4 || W < 1 || H < 1 || D < 1 || C < 1 || length != plane * C) {
      napi_throw_range_error(env, nullptr, ("ncnn-native: input '" + inNames[i] + "' does not match its shape").c_str());
      return nullptr;
    }
    float* src = static_cast<float*>(p);
    ncnn::Mat m = dims == 1 ? ncnn::Mat(W, src) : dims == 2 ? ncnn::Mat(W, H, src) : dims == 3 ? ncnn::Mat(W, H, C, src) : ncnn::Mat(W, H, D, C, src);
    if (m.cstep == plane || C == 1) {
      m.refcount = &pinned;
    } else {
      ncnn::Mat& kept = h->inputs[inNames[i]];
      if (kept.dims != m.dims || kept.w != W || kept.h != H || kept.d != D || kept.c != C) {
        kept.release();
        if (dims == 3) kept.create(W, H, C);
        else kept.create(W, H, D, C);
      }
      if (kept.empty()) {
        napi_throw_error(env, nullptr, "ncnn-native: out of memory");
        return nullptr;
      }
      for (int q = 0; q < C; q++) std::memcpy(kept.channel(q), src + plane * q, plane * sizeof(float));
      m = kept;
    }
    mats.push_back(m);
  }
  std::vector<ncnn::Mat> outs(outNames.size());
  const auto t0 = std::chrono::steady_clock::now();
  {
    ncnn::Extractor ex = h->net.create_extractor();
    for (size_t i = 0; i < mats.size(); i++) {
      if (ex.input(inNames[i].c_str(), mats[i]) != 0) {
        napi_throw_error(env, nullptr, ("ncnn-native: model has no input '" + inNames[i] + "'").c_str());
        return nullptr;
      }
    }
    for (size_t i = 0; i < outNames.size(); i++) {
      if (ex.extract(outNames[i].c_str(), outs[i]) != 0 || outs[i].empty()) {
        napi_throw_error(env, nullptr, ("ncnn-native: extract('" + outNames[i] + "') failed").c_str());
        return nullptr;
      }
    }
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  napi_value result, datas, shapes, msv;
  CHECK(napi_create_array_with_length(env, 3, &result));
  CHECK(napi_create_array_with_length(env, outs.size(), &datas));
  CHECK(napi_create_array_with_length(env, outs.size(), &shapes));
  for (size_t i = 0; i < outs.size(); i++) {
    const ncnn::Mat& m = outs[i];
    const size_t plane = static_cast<size_t>(m.w) * m.h * m.d;
    void* dst = nullptr;
    napi_value ab, arr, shape;
    CHECK(napi_create_arraybuffer(env, plane * m.c * sizeof(float), &dst, &ab));
    for (int q = 0; q < m.c; q++) std::memcpy(static_cast<float*>(dst) + plane * q, m.channel(q), plane * sizeof(float));
    CHECK(napi_create_typedarray(env, napi_float32_array, plane * m.c, ab, 0, &arr));
    // the Mat's axes in numpy's order, as the worker returns them: (c, d, h, w) down to its dims
    const int c_d_h_w[4] = {m.c, m.d, m.h, m.w};
    const int* axes = m.dims == 3 ? nullptr : c_d_h_w + (4 - m.dims);
    const int c_h_w[3] = {m.c, m.h, m.w};
    CHECK(napi_create_array_with_length(env, m.dims, &shape));
    for (int k = 0; k < m.dims; k++) {
      napi_value e;
      napi_create_int32(env, axes ? axes[k] : c_h_w[k], &e);
      napi_set_element(env, shape, k, e);
    }
    napi_set_element(env, datas, i, arr);
    napi_set_element(env, shapes, i, shape);
  }
  CHECK(napi_create_double(env, ms, &msv));
  napi_set_element(env, result, 0, msv);
  napi_set_element(env, result, 1, datas);
  napi_set_element(env, result, 2, shapes);
  return result;
}

napi_value Free(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void* p = nullptr;
  if (napi_get_value_external(env, argv[0], &p) == napi_ok && p) {
    Handle* h = static_cast<Handle*>(p);
    if (!h->freed) {
      h->inputs.clear();
      h->net.clear();
    }
    h->freed = true;  // the finalizer deletes it
  }
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"load", nullptr, Load, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"names", nullptr, Names, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"run", nullptr, Run, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"free", nullptr, Free, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  napi_value v;
  // the sdist's CMake stamps the build date into NCNN_VERSION_STRING; the build script passes the release
  napi_create_string_utf8(env, "ncnn " FDK_NCNN_RELEASE " native (N-API, in-process)", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, exports, "build", v);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
