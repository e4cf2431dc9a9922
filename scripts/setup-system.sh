#!/usr/bin/env bash
# Debian packages fdk needs beyond Node and Python:
#   chromium             the report HTML test and the browser lane (`--browser chromium`, fdk serve tests)
#   emscripten, cmake    build ncnn for WebAssembly (scripts/build-ncnn-wasm.sh, the ncnn-wasm runtime)
#   g++                  build ncnn natively for the in-process lane (scripts/build-ncnn-native.sh; optional)
#   node-acorn           Debian's emscripten runs its JS optimiser with the system acorn module
#   faketime             the ncnn source distribution only downloads on its release date (see that script)
#   gcc, libjpeg62-turbo-dev  the native JPEG decoder (scripts/build-native.sh; node_api.h comes with the nodejs package)
# Installs only what is missing; uses sudo when not root.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v emcc >/dev/null || need+=(emscripten)
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
[ -d /usr/share/nodejs/acorn ] || need+=(node-acorn)
command -v faketime >/dev/null || need+=(faketime)
command -v gcc >/dev/null || need+=(gcc)
[ -f /usr/include/jpeglib.h ] || need+=(libjpeg62-turbo-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup-system: apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
