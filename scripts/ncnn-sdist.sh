# Sourced by scripts/build-ncnn-wasm.sh and scripts/build-ncnn-native.sh: the ncnn source
# distribution from PyPI (the one the `ncnn` wheel fdk's worker runs is built from), downloaded
# once, checked against its pinned sha256 and unpacked once into $NCNN_SDIST_CACHE/src.
#
#   NCNN_SDIST_CACHE=DIR; . scripts/ncnn-sdist.sh; ncnn_sdist   # sets SRC=<unpacked source dir>
#
# Environment: FDK_NCNN_SDIST=/path/to/ncnn-<version>.tar.gz uses a tarball already downloaded
# (its sha256 is still checked).
NCNN_VERSION=1.0.20261020
# sha256 of ncnn-$NCNN_VERSION.tar.gz as PyPI serves it (pinned: a different file is refused).
NCNN_SDIST_SHA256=ad8cdd63e9755cfa8e23b9b6d9ce46156077d80298a89e7c3ba325ffccfca200
# The sdist's setup.py stamps today's date into the version, so pip refuses the file unless it
# runs on the release date: faketime pins the clock for pip alone.
NCNN_RELEASE_DATE='2026-10-20 12:00:00'

ncnn_sdist() {
  mkdir -p "$NCNN_SDIST_CACHE/src"
  local sdist=$NCNN_SDIST_CACHE/src/ncnn-$NCNN_VERSION.tar.gz
  if [ ! -f "$sdist" ]; then
    if [ -n "${FDK_NCNN_SDIST:-}" ]; then
      cp "$FDK_NCNN_SDIST" "$sdist.tmp"
    else
      command -v faketime >/dev/null || die "faketime not found (apt-get install faketime)"
      local py=${PYTHON:-python3} dl
      dl=$(mktemp -d)
      echo "$(basename "$0" .sh): downloading ncnn==$NCNN_VERSION source from PyPI"
      faketime "$NCNN_RELEASE_DATE" "$py" -m pip download --quiet --disable-pip-version-check \
        --no-deps --no-binary :all: -d "$dl" "ncnn==$NCNN_VERSION"
      mv "$dl/ncnn-$NCNN_VERSION.tar.gz" "$sdist.tmp"; rm -rf "$dl"
    fi
    mv "$sdist.tmp" "$sdist"
  fi
  local got
  got=$(sha256sum "$sdist" | cut -d' ' -f1)
  [ "$got" = "$NCNN_SDIST_SHA256" ] || { rm -f "$sdist"; die "$sdist: sha256 $got, expected $NCNN_SDIST_SHA256"; }
  SRC=$NCNN_SDIST_CACHE/src/ncnn-$NCNN_VERSION
  if [ ! -f "$SRC/CMakeLists.txt" ]; then
    rm -rf "$SRC.tmp" && mkdir -p "$SRC.tmp"
    tar xzf "$sdist" -C "$SRC.tmp" --strip-components=1
    rm -rf "$SRC" && mv "$SRC.tmp" "$SRC"
  fi
}
