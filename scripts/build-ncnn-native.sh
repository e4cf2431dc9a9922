#!/usr/bin/env bash
# Builds ncnn natively from the same PyPI source distribution as the `ncnn` wheel fdk's worker runs
# (scripts/ncnn-sdist.sh) and links it statically into fdk's in-process N-API binding
# (src/runtime/ncnn-native/addon.cc). Used by `npm run bench:overhead` for its "ncnn in-process"
# lane, which measures what the worker's process boundary costs; the `ncnn` runtime itself keeps
# the PyPI wheel in its worker. Optional: nothing else needs it.
#
#   bash scripts/build-ncnn-native.sh        # minutes the first time, then cached
#
# ncnn options: the wheel's (setup.py: no tools/examples/benchmark, RTTI and exceptions on) minus
# Vulkan and Python, static and position-independent for the addon. Cut to what a float model of
# fdk needs, so that it builds in minutes rather than an hour on 2 shared cores:
#   - ISA variants: only AVX-512 / XOP / FMA4 / AVX-VNNI / AVX-NE-CONVERT CPUs dispatch to the ones
#     left out; ncnn picks kernels at run time from the CPU, so on a CPU without those (the build
#     prints what this one has) the same kernels run as in the wheel;
#   - no int8 / bf16 code (fp32 and fp16 only: int8 models are refused at load);
#   - the layers of $KEEP_LAYERS only: every layer type in fdk's bundled and converted models
#     (ultra-light, retinaface seeds) plus those ncnn creates inside them (packing, casts, padding,
#     fused activations). A model with another layer fails to load with ncnn's own message.
# A full build is the same command with those three lines of CMAKE_OPTS removed.
#
# Output: .fdk/ncnn-native/<key>/ncnn-native.node + build.json and .fdk/ncnn-native/current.json
# pointing at it (read by src/runtime/ncnn-native.ts). The library build is kept in a per-user
# cache (FDK_NCNN_NATIVE_CACHE, default ~/.cache/fdk-ncnn-native); the source download is shared
# with the WebAssembly build (~/.cache/fdk-ncnn-wasm/src). Environment: JOBS (default 2),
# NODE_INCLUDE (default: the include/node beside this node, else /usr/include/node).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
OUT=$ROOT/.fdk/ncnn-native
CACHE=${FDK_NCNN_NATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdk-ncnn-native}
ADDON=$ROOT/src/runtime/ncnn-native/addon.cc
die() { echo "build-ncnn-native: error: $*" >&2; exit 1; }
for tool in cmake g++ sha256sum; do command -v $tool >/dev/null || die "$tool not found (apt-get install cmake g++)"; done
NODE_INCLUDE=${NODE_INCLUDE:-$(dirname "$(dirname "$(command -v node)")")/include/node}
[ -f "$NODE_INCLUDE/node_api.h" ] || NODE_INCLUDE=/usr/include/node
[ -f "$NODE_INCLUDE/node_api.h" ] || die "node_api.h not found (apt-get install libnode-dev, or set NODE_INCLUDE)"

NCNN_SDIST_CACHE=${FDK_NCNN_WASM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdk-ncnn-wasm}; . scripts/ncnn-sdist.sh; ncnn_sdist

KEEP_LAYERS="Input Convolution ConvolutionDepthWise Split Reshape Permute ReLU BinaryOp Concat BatchNorm Crop
  MemoryData Softmax UnaryOp Interp Sigmoid Pooling Eltwise Slice Flatten InnerProduct Bias Scale Packing
  Padding Cast Clip Mish HardSwish HardSigmoid Noop Dropout"
LAYER_OPTS=()
for l in $(grep -o '^ncnn_add_layer([A-Za-z0-9]*' "$SRC/src/CMakeLists.txt" | sed 's/ncnn_add_layer(//'); do
  case " $(echo $KEEP_LAYERS) " in *" $l "*) ;; *) LAYER_OPTS+=("-DWITH_LAYER_$(echo "$l" | tr A-Z a-z)=OFF") ;; esac
done
CMAKE_OPTS=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DNCNN_SHARED_LIB=OFF
  -DNCNN_VULKAN=OFF -DNCNN_PYTHON=OFF -DNCNN_BUILD_TOOLS=OFF -DNCNN_BUILD_EXAMPLES=OFF
  -DNCNN_BUILD_BENCHMARK=OFF -DNCNN_BUILD_TESTS=OFF -DNCNN_INSTALL_SDK=OFF -DNCNN_DISABLE_RTTI=OFF
  -DNCNN_DISABLE_EXCEPTION=OFF -DNCNN_AVX512=OFF -DNCNN_XOP=OFF -DNCNN_FMA4=OFF -DNCNN_AVXVNNI=OFF
  -DNCNN_AVXNECONVERT=OFF
  -DNCNN_INT8=OFF -DNCNN_BF16=OFF -DNCNN_PIXEL=OFF -DNCNN_PIXEL_ROTATE=OFF -DNCNN_PIXEL_AFFINE=OFF -DNCNN_PIXEL_DRAWING=OFF
  "${LAYER_OPTS[@]}")
CXXVER=$(g++ --version | sed -n 1p)
LIB=$CACHE/lib-$(echo "$NCNN_SDIST_SHA256 ${CMAKE_OPTS[*]} $CXXVER" | sha256sum | cut -c1-16)
START=$(date +%s)
if [ ! -f "$LIB/src/libncnn.a" ]; then
  mkdir -p "$CACHE"
  echo "build-ncnn-native: building ncnn $NCNN_VERSION with $CXXVER, $JOBS jobs (log: $CACHE/make.log)"
  cmake -S "$SRC" -B "$LIB.tmp" "${CMAKE_OPTS[@]}" >"$CACHE/cmake.log" 2>&1 || die "cmake failed, see $CACHE/cmake.log"
  cmake --build "$LIB.tmp" -j "$JOBS" >"$CACHE/make.log" 2>&1 || die "ncnn build failed, see $CACHE/make.log"
  rm -rf "$LIB" && mv "$LIB.tmp" "$LIB"
fi
KEY=$( { echo "$LIB"; cat "$ADDON"; echo "$CXXVER"; node -p process.versions.napi; } | sha256sum | cut -c1-16)
DEST=$OUT/$KEY
if [ ! -f "$DEST/build.json" ]; then
  TMP=$DEST.tmp; rm -rf "$TMP"; mkdir -p "$TMP"
  g++ -O2 -std=c++11 -shared -fPIC -fvisibility=hidden -fopenmp "-DFDK_NCNN_RELEASE=\"$NCNN_VERSION\"" -I"$NODE_INCLUDE" -I"$LIB/src" -I"$SRC/src" \
    "$ADDON" "$LIB/src/libncnn.a" -o "$TMP/ncnn-native.node" || { rm -rf "$TMP"; die "compiling the addon failed"; }
  cat >"$TMP/build.json" <<JSON
{"ncnn": "$NCNN_VERSION", "sdistSha256": "$NCNN_SDIST_SHA256", "key": "$KEY", "compiler": "$CXXVER",
 "cmake": "${CMAKE_OPTS[*]}", "buildSeconds": $(( $(date +%s) - START )), "builtAt": "$(date -u +%FT%TZ)"}
JSON
  rm -rf "$DEST" && mv "$TMP" "$DEST"
fi
echo "{\"dir\": \"$KEY\"}" >"$OUT/current.json.tmp" && mv "$OUT/current.json.tmp" "$OUT/current.json"
echo "build-ncnn-native: $DEST/ncnn-native.node (CPU: $(grep -m1 -o -w -E 'avx512f|avx2|fma|f16c|avx' /proc/cpuinfo | sort -u | tr '\n' ' '))"
