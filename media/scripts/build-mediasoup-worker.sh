#!/usr/bin/env bash
# Builds the mediasoup worker of the installed `mediasoup` npm package from the package's own
# `worker/` sources, against Debian's libraries, without downloading anything, and caches it by
# version:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/flock/mediasoup-worker/<version>-r<build revision>/mediasoup-worker
#
# A second run for the same version finds the binary and does nothing. The last line printed is
# the binary's path (point MEDIASOUP_WORKER_BIN at it, or let the gateway find it there).
#
# Why by hand: mediasoup's postinstall either downloads a prebuilt worker from GitHub or builds
# with meson wraps that download every dependency; neither is possible here (only the npm
# registry, Debian's apt and a local pip mirror are reachable). So each `.wrap` subproject is
# replaced by a shim subproject that declares the variable mediasoup's meson.build reads, taken
# from the Debian -dev package (see docs/media-webrtc.md).
#
# Needs (Debian): g++ pkg-config ninja-build python3-venv libssl-dev libuv1-dev libabsl-dev
# libsrtp2-dev libusrsctp-dev libflatbuffers-dev flatbuffers-compiler. meson >= 1.1 comes from pip
# into a venv under the cache dir when the system one is older (Debian 12 ships 1.0.1).
#
# Environment: MEDIASOUP_BUILD_JOBS (ninja -j, default: number of cores).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

die() {
  printf 'build-mediasoup-worker: ERROR: %s\n' "$*" >&2
  exit 1
}
info() { printf 'build-mediasoup-worker: %s\n' "$*" >&2; }

# The package as node resolves it from the media workspace (hoisted or not).
# (mediasoup's "exports" hide package.json: resolve the main module, node/lib/index.js, and go up.)
pkg_dir="$(cd "$repo/media" &&
  node -p 'require("path").resolve(require.resolve("mediasoup"), "../../..")' 2>/dev/null)" ||
  die "the mediasoup npm package is not installed; run 'npm ci' first"
version="$(node -p "require('$pkg_dir/package.json').version")"
[ -d "$pkg_dir/worker" ] || die "$pkg_dir has no worker/ sources"

# The build revision: raised whenever this script builds a different binary from the same
# mediasoup version (a changed shim or source patch), so a worker cached by an older script is
# not reused. media/src/webrtc/worker-bin.ts (WORKER_BUILD_REVISION) looks in the same place.
build_revision=2
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/flock/mediasoup-worker"
out_dir="$cache_root/$version-r$build_revision"
out_bin="$out_dir/mediasoup-worker"

if [ -x "$out_bin" ]; then
  info "mediasoup-worker $version already built"
  printf '%s\n' "$out_bin"
  exit 0
fi

missing=()
for cmd in g++ pkg-config ninja flatc python3; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
for pc in openssl libuv libsrtp2 usrsctp flatbuffers absl_flat_hash_map; do
  pkg-config --exists "$pc" 2>/dev/null || missing+=("pkg-config:$pc")
done
[ "${#missing[@]}" -eq 0 ] || die "missing: ${missing[*]}
  install: apt-get install -y g++ pkg-config ninja-build python3-venv libssl-dev libuv1-dev libabsl-dev libsrtp2-dev libusrsctp-dev libflatbuffers-dev flatbuffers-compiler"

# meson >= 1.1 (mediasoup's meson_version): the system one if new enough, else pip into a venv.
meson_ok() { "$1" --version 2>/dev/null | awk -F. '{ exit !($1 > 1 || ($1 == 1 && $2 >= 1)) }'; }
meson_bin=""
if command -v meson >/dev/null 2>&1 && meson_ok meson; then
  meson_bin="$(command -v meson)"
else
  venv="$cache_root/meson-venv"
  if ! { [ -x "$venv/bin/meson" ] && meson_ok "$venv/bin/meson"; }; then
    info "installing meson from pip into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (install python3-venv)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'meson>=1.1' ||
      die "pip could not install meson >= 1.1"
  fi
  meson_bin="$venv/bin/meson"
fi
info "meson $("$meson_bin" --version) ($meson_bin)"

# Work on a copy, so node_modules stays untouched. The copy stays until the build succeeds, so
# an interrupted build resumes where it stopped (ninja is incremental); the binary is published
# only at the end, so a half-finished build never looks finished.
work="$out_dir/work"
src="$work/worker"
if [ ! -f "$work/.copied" ]; then
  rm -rf "$work"
  mkdir -p "$work"
  cp -R "$pkg_dir/worker" "$src"
  touch "$work/.copied"
fi
subs="$src/subprojects"
rm -f "$subs"/*.wrap

# Source fix (idempotent, checked): mediasoup's BIO callback on the DTLS write BIO returns 1 for
# every call except one with operationType == BIO_CB_RETURN exactly, which never happens (the
# after-call is always BIO_CB_RETURN | <op>). So every BIO_ctrl on that BIO answers 1, including
# BIO_get_ktls_send(): Debian's OpenSSL is built with kernel-TLS support (mediasoup's own OpenSSL
# wrap is not), believes the memory BIO sends through kernel TLS, allocates no record write
# buffer, and the worker dies with SIGSEGV writing the first DTLS record (the answer to the
# browser's ClientHello). The fix passes the BIO's own answer through for the two kernel-TLS
# queries; every other call answers as before (docs/media-webrtc.md, "The DTLS crash").
python3 - "$src/src/RTC/DtlsTransport.cpp" <<'PY' || die "could not patch DtlsTransport.cpp (mediasoup changed it?)"
import sys
path = sys.argv[1]
text = open(path).read()
fixes = [
    ("  int /*argi*/,\n", "  int argi,\n"),
    (
        "long resultOfcallback = (operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;",
        "long resultOfcallback =\n"
        "\t  (operationType == BIO_CB_RETURN ||\n"
        "\t   (operationType == (BIO_CB_CTRL | BIO_CB_RETURN) &&\n"
        "\t    (argi == BIO_CTRL_GET_KTLS_SEND || argi == BIO_CTRL_GET_KTLS_RECV)))\n"
        "\t    ? static_cast<long>(ret)\n"
        "\t    : 1;",
    ),
]
for old, new in fixes:
    if new in text:
        continue
    if text.count(old) != 1:
        sys.exit("DtlsTransport.cpp: the line to fix was not found: " + old.strip())
    text = text.replace(old, new)
open(path, "w").write(text)
PY

# write_if_changed FILE: stdin into FILE unless FILE already holds exactly that (an unchanged
# shim keeps its mtime, so a resumed build does not recompile what includes it).
write_if_changed() {
  local tmp="$1.new"
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

# shim NAME [OPTION...]: a subproject whose meson.build is given on stdin, plus an empty C file
# for the `*_lib` static libraries mediasoup passes to link_whole (only its shared library, which
# is not built, uses them; the executable links the dependencies). Each OPTION is one that
# mediasoup sets in the subproject's default_options, declared so meson accepts it (unused).
shim() {
  local name="$1"
  shift
  mkdir -p "$subs/$name"
  write_if_changed "$subs/$name/empty.c" </dev/null
  write_if_changed "$subs/$name/meson.build"
  for opt in "$@"; do
    printf "option('%s', type: 'string', value: '')\n" "$opt"
  done | write_if_changed "$subs/$name/meson_options.txt"
}

shim openssl <<'EOF'
project('openssl', 'c')
openssl_dep = dependency('openssl')
libcrypto_lib = static_library('crypto_shim', 'empty.c')
libssl_lib = static_library('ssl_shim', 'empty.c')
EOF

shim libuv build_tests build_benchmarks <<'EOF'
project('libuv', 'c')
libuv_dep = dependency('libuv')
libuv = static_library('uv_shim', 'empty.c')
EOF

# mediasoup 3.18 is written against libsrtp 3 (its own fork); Debian has libsrtp 2.5. The shim
# puts a compat <srtp.h> first on the include path: it includes libsrtp2's header and adds, for
# C++ only, the few libsrtp 3 names mediasoup uses, as inline adapters onto the libsrtp 2 calls.
shim libsrtp3 crypto-library crypto-library-kdf tests <<'EOF'
project('libsrtp3', 'c')
srtp2 = dependency('libsrtp2')
libsrtp3_dep = declare_dependency(
  dependencies: srtp2,
  include_directories: include_directories('compat'),
)
libsrtp3 = static_library('srtp_shim', 'empty.c')
EOF
mkdir -p "$subs/libsrtp3/compat"
write_if_changed "$subs/libsrtp3/compat/srtp.h" <"$here/mediasoup-worker/srtp3-compat.h"

shim usrsctp sctp_build_programs <<'EOF'
project('usrsctp', 'c')
usrsctp_dep = dependency('usrsctp')
usrsctp = static_library('usrsctp_shim', 'empty.c')
EOF

shim abseil-cpp <<'EOF'
project('abseil-cpp', 'c')
absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map'),
  dependency('absl_flat_hash_set'),
  dependency('absl_inlined_vector'),
  dependency('absl_btree'),
  dependency('absl_memory'),
])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = dependency('absl_optional')
absl_container_lib = static_library('absl_shim', 'empty.c')
EOF

# The worker's unit tests are not built; the variable only has to exist.
shim catch2 <<'EOF'
project('catch2', 'c')
catch2_dep = declare_dependency()
EOF

shim flatbuffers <<'EOF'
project('flatbuffers', 'c')
flatbuffers_dep = dependency('flatbuffers')
flatbuffers_lib = static_library('flatbuffers_shim', 'empty.c')
EOF

jobs="${MEDIASOUP_BUILD_JOBS:-$(nproc)}"
info "building mediasoup-worker $version in $work (-j$jobs)"
(
  cd "$src"
  if [ ! -f build/build.ninja ]; then
    rm -rf build
    "$meson_bin" setup build --wrap-mode=nodownload -Dms_disable_liburing=true --buildtype release >&2
  fi
  # The generated FlatBuffers headers must exist before any worker source compiles. -k0: when
  # something does not compile, report every failing file in one run.
  "$meson_bin" compile -C build -j "$jobs" flatbuffers-generator >&2
  "$meson_bin" compile -C build -j "$jobs" --ninja-args=-k0 mediasoup-worker >&2
)
built="$src/build/mediasoup-worker"
[ -x "$built" ] || die "ninja finished but $built is missing"

# Copy then rename, so a concurrent reader never sees a half-written binary.
cp "$built" "$out_bin.tmp.$$"
strip "$out_bin.tmp.$$" 2>/dev/null || true
mv -f "$out_bin.tmp.$$" "$out_bin"
rm -rf "$work"
info "built mediasoup-worker $version"
printf '%s\n' "$out_bin"
