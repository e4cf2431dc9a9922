#!/usr/bin/env bash
# Builds fdk's optional native addon: the exact JPEG decoder (native/jpeg-decode.c, N-API, against the
# system libjpeg-turbo) into .fdk/native/jpeg-decode.node. Needs gcc, Node's headers
# (/usr/include/node/node_api.h) and libjpeg62-turbo-dev. Without it fdk decodes with sharp (same
# pixels, about twice the CPU); a failed build is reported and never fatal unless FDK_NATIVE_REQUIRED=1.
set -uo pipefail
cd "$(dirname "$0")/.."
out=.fdk/native
mkdir -p "$out"
inc=""
for d in "${NODE_INCLUDE_DIR:-}" /usr/include/node "$(dirname "$(dirname "$(command -v node)")")/include/node"; do
  if [ -n "$d" ] && [ -f "$d/node_api.h" ]; then inc="$d"; break; fi
done
tmp="$out/jpeg-decode.node.tmp.$$"
if [ -n "$inc" ] && gcc -O2 -Wall -shared -fPIC -I"$inc" native/jpeg-decode.c -o "$tmp" -ljpeg; then
  mv "$tmp" "$out/jpeg-decode.node"
  echo "build-native: $out/jpeg-decode.node"
else
  rm -f "$tmp"
  echo "build-native: could not build the JPEG addon (need gcc, node_api.h, libjpeg62-turbo-dev); fdk falls back to sharp" >&2
  [ "${FDK_NATIVE_REQUIRED:-0}" = 1 ] && exit 1
fi
exit 0
