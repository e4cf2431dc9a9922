#!/usr/bin/env bash
# Builds ncnn for WebAssembly (the `ncnn-wasm` runtime) from the official source distribution on
# PyPI, with Debian's emscripten, plus fdk's own binding (src/runtime/ncnn-wasm/binding.cpp).
#
#   bash scripts/build-ncnn-wasm.sh            # both variants: simd (1 thread) and simd-threads (pthreads)
#   bash scripts/build-ncnn-wasm.sh simd       # one variant
#
# Output: .fdk/ncnn-wasm/<variant>-<key>/ncnn-wasm.{js,wasm} + build.json, and .fdk/ncnn-wasm/<variant>.json
# pointing at the current one (read by src/runtime/ncnn-wasm/locate.ts). <key> hashes the source
# checksum, the flags, the binding and the compiler version, so a rebuild happens only when one of
# them changes. The download, the library builds and the linked modules are kept in a per-user cache
# (a fresh clone on the same machine, e.g. CI's, then copies instead of rebuilding for ~30 min);
# a machine without that cache builds everything. Nothing here is committed.
#
# Environment: FDK_NCNN_SDIST=/path/to/ncnn-<version>.tar.gz uses a tarball already downloaded
# (its sha256 is still checked, scripts/ncnn-sdist.sh); FDK_NCNN_WASM_CACHE (default ~/.cache/fdk-ncnn-wasm); JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

JOBS=${JOBS:-2}
OUT=$ROOT/.fdk/ncnn-wasm
CACHE=${FDK_NCNN_WASM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdk-ncnn-wasm}
BINDING=$ROOT/src/runtime/ncnn-wasm/binding.cpp
VARIANTS=("$@"); [ ${#VARIANTS[@]} -eq 0 ] && VARIANTS=(simd simd-threads)

die() { echo "build-ncnn-wasm: error: $*" >&2; exit 1; }
for tool in emcmake emcc em++ cmake sha256sum; do command -v $tool >/dev/null || die "$tool not found (run scripts/setup-system.sh)"; done
# Debian's emscripten runs its JS optimiser with node and the system acorn module.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
[ -d /usr/share/nodejs/acorn ] || die "node-acorn is not installed (apt-get install node-acorn)"

# ---- 1. source: download once, check the pinned sha256, unpack once (shared with the native build)
mkdir -p "$OUT"
NCNN_SDIST_CACHE=$CACHE; . scripts/ncnn-sdist.sh; ncnn_sdist

COMMON_CMAKE=(-DCMAKE_BUILD_TYPE=Release -DNCNN_SIMPLEOCV=ON -DNCNN_RUNTIME_CPU=OFF -DNCNN_SSE2=ON
  -DNCNN_AVX=OFF -DNCNN_AVX2=OFF -DNCNN_VULKAN=OFF -DNCNN_BUILD_TOOLS=OFF -DNCNN_BUILD_EXAMPLES=OFF
  -DNCNN_BUILD_BENCHMARK=OFF -DNCNN_BUILD_TESTS=OFF -DNCNN_PYTHON=OFF -DNCNN_INSTALL_SDK=OFF)
EXPORTS='_malloc,_free,_fdk_net_create,_fdk_net_set_options,_fdk_net_load,_fdk_ex_begin,_fdk_ex_input,_fdk_ex_extract,_fdk_out_data,_fdk_out_dims,_fdk_ex_end,_fdk_net_free,_fdk_build_info'
COMMON_LINK=(-O3 -msimd128 -sMODULARIZE=1 -sEXPORT_NAME=createNcnnWasm -sENVIRONMENT=web,worker,node
  -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=64MB -sMAXIMUM_MEMORY=2GB -sFILESYSTEM=0 -sEXIT_RUNTIME=0
  "-sEXPORTED_FUNCTIONS=$EXPORTS" -sEXPORTED_RUNTIME_METHODS=UTF8ToString)

for VARIANT in "${VARIANTS[@]}"; do
  case $VARIANT in
    simd) VCMAKE=(-DNCNN_THREADS=OFF -DNCNN_OPENMP=OFF -DNCNN_SIMPLEOMP=OFF); VLINK=() ;;
    # ncnn parallelises with OpenMP; NCNN_SIMPLEOMP is its own small OpenMP runtime on pthreads,
    # which emscripten maps to Web Workers sharing one SharedArrayBuffer memory. The pool is
    # created at start-up because a blocked main thread cannot spawn workers later.
    # Memory is fixed (no growth): with threads, a worker growing the shared heap would leave the
    # main thread's views of it stale while net.ts reads outputs through them.
    simd-threads) VCMAKE=(-DNCNN_THREADS=ON -DNCNN_OPENMP=ON -DNCNN_SIMPLEOMP=ON)
      VLINK=(-pthread -sPTHREAD_POOL_SIZE=4 -sALLOW_MEMORY_GROWTH=0 -sINITIAL_MEMORY=512MB) ;;
    *) die "unknown variant '$VARIANT' (known: simd, simd-threads)" ;;
  esac
  EMVER=$(emcc --version | sed -n 1p)  # sed reads to the end: head would close the pipe and break emcc under pipefail
  KEY=$( { echo "$NCNN_SDIST_SHA256"; echo "${COMMON_CMAKE[*]} ${VCMAKE[*]}"; echo "${COMMON_LINK[*]} ${VLINK[*]}"; cat "$BINDING"; echo "$EMVER"; } | sha256sum | cut -c1-16)
  DEST=$CACHE/$VARIANT-$KEY
  if [ -f "$DEST/build.json" ]; then
    echo "build-ncnn-wasm: $VARIANT is up to date ($DEST)"
  else
    START=$(date +%s)
    LIB=$CACHE/lib-$VARIANT-$(echo "$NCNN_SDIST_SHA256 ${COMMON_CMAKE[*]} ${VCMAKE[*]} $EMVER" | sha256sum | cut -c1-16)
    if [ ! -f "$LIB/src/libncnn.a" ]; then
      echo "build-ncnn-wasm: building ncnn ($VARIANT) with $EMVER, $JOBS jobs"
      emcmake cmake -S "$SRC" -B "$LIB" "${COMMON_CMAKE[@]}" "${VCMAKE[@]}" >"$OUT/cmake-$VARIANT.log" 2>&1 \
        || die "cmake failed, see $OUT/cmake-$VARIANT.log"
      cmake --build "$LIB" -j "$JOBS" >"$OUT/make-$VARIANT.log" 2>&1 || die "ncnn build failed, see $OUT/make-$VARIANT.log"
    fi
    TMP=$DEST.tmp; rm -rf "$TMP"; mkdir -p "$TMP"
    em++ "${COMMON_LINK[@]}" "${VLINK[@]}" -std=c++11 -I"$LIB/src" -I"$SRC/src" "$BINDING" "$LIB/src/libncnn.a" \
      -o "$TMP/ncnn-wasm.js" || { rm -rf "$TMP"; die "linking the binding failed"; }
    SECS=$(( $(date +%s) - START ))
    WASM_BYTES=$(stat -c %s "$TMP/ncnn-wasm.wasm")
    cat >"$TMP/build.json" <<JSON
{"variant": "$VARIANT", "ncnn": "$NCNN_VERSION", "sdistSha256": "$NCNN_SDIST_SHA256", "key": "$KEY",
 "emscripten": "$EMVER", "threads": $([ "$VARIANT" = simd-threads ] && echo true || echo false), "simd": true,
 "wasmBytes": $WASM_BYTES, "buildSeconds": $SECS, "builtAt": "$(date -u +%FT%TZ)"}
JSON
    # the fdk package is "type": "module"; emscripten's loader is a classic script (CommonJS in Node)
    echo '{"type": "commonjs"}' >"$TMP/package.json"
    rm -rf "$DEST" && mv "$TMP" "$DEST"
    echo "build-ncnn-wasm: $VARIANT built in ${SECS}s, ncnn-wasm.wasm $(( WASM_BYTES / 1024 )) KiB -> $DEST"
  fi
  if [ ! -f "$OUT/$VARIANT-$KEY/build.json" ]; then
    rm -rf "$OUT/$VARIANT-$KEY.tmp" && cp -r "$DEST" "$OUT/$VARIANT-$KEY.tmp" && mv "$OUT/$VARIANT-$KEY.tmp" "$OUT/$VARIANT-$KEY"
  fi
  echo "{\"dir\": \"$VARIANT-$KEY\"}" >"$OUT/$VARIANT.json.tmp" && mv "$OUT/$VARIANT.json.tmp" "$OUT/$VARIANT.json"
done
