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
#include <string>
#include <vector>

#include "net.h"
#include "platform.h"

namespace {

struct Handle {
  ncnn::Net net;
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
  // inputs are copied into Mats ncnn owns (channel planes padded as ncnn wants): ncnn may work in
  // place on an input blob, and a Mat over JS memory would have no reference count for it to check
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
    const int w = v[0], h = dims >= 2 ? v[1] : 1, d = dims == 4 ? v[2] : 1, c = dims == 3 ? v[2] : dims == 4 ? v[3] : 1;
    ncnn::Mat m;
    if (dims == 1) m.create(w);
    else if (dims == 2) m.create(w, h);
    else if (dims == 3) m.create(w, h, c);
    else if (dims == 4) m.create(w, h, d, c);
    const size_t plane = static_cast<size_t>(w) * h * d;
    if (m.empty() || w < 1 || h < 1 || d < 1 || c < 1 || length != plane * c) {
      napi_throw_range_error(env, nullptr, ("ncnn-native: input '" + inNames[i] + "' does not match its shape").c_str());
      return nullptr;
    }
    for (int q = 0; q < c; q++) std::memcpy(m.channel(q), static_cast<float*>(p) + plane * q, plane * sizeof(float));
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
    if (!h->freed) h->net.clear();
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
