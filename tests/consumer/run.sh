#!/usr/bin/env bash
# The consumer test (issue 18): pc5sec as a program outside its tree uses it. Installs the test
# build into a temporary prefix, checks what was installed, then builds and runs each program in
# examples/cpp/ against that prefix with find_package(pc5sec) (examples/cpp/CMakeLists.txt) and
# with pkg-config, each with g++ and clang++. Prints each step's time.
#   tests/consumer/run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
src="$(cd "$2" && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/pc5sec-consumer.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
examples=(a_link relay own_transport)
compilers=(g++ clang++)

step() {  # step NAME COMMAND...: runs it, prints its time, stops the test if it fails
    local name="$1"; shift
    local t0=$SECONDS
    if ! "$@" >"$tmp/step.log" 2>&1; then
        cat "$tmp/step.log"
        echo "FAIL  $name ($((SECONDS - t0)) s)"
        exit 1
    fi
    echo "ok    $name ($((SECONDS - t0)) s)"
}

step "install into a temporary prefix" cmake --install "$build" --prefix "$prefix"

libdir="$prefix/lib"
[ -d "$libdir/pkgconfig" ] || libdir="$(dirname "$(find "$prefix" -name pc5sec.pc | head -1)")/.."
check_installed() {
    test -f "$prefix/include/pc5sec/version.hpp"
    test -f "$prefix/include/pc5sec/link.hpp"
    find "$prefix" -name pc5secConfig.cmake | grep -q .
    find "$prefix" -name pc5secConfigVersion.cmake | grep -q .
    # toml++ stays private: no public header includes it.
    if grep -rl 'toml++' "$prefix/include/pc5sec"; then echo "toml++ in public headers"; return 1; fi
    # The installed archives hold plain objects, no LTO bytecode (any compiler can link them).
    local a
    for a in "$libdir"/libpc5sec_*.a; do
        [ -e "$a" ] || continue
        if objdump -h "$a" | grep -q '\.gnu\.lto'; then echo "$a holds LTO objects"; return 1; fi
    done
    test "$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --modversion pc5sec)" = \
         "$(sed -n 's/^#define PC5SEC_VERSION_STRING "\(.*\)"/\1/p' "$prefix/include/pc5sec/version.hpp")"
}
step "installed files (headers, package, pkg-config, no LTO objects)" check_installed

run_examples() {  # run_examples DIR: runs each example program built in DIR
    local e
    for e in "${examples[@]}"; do
        echo "--- $e"
        LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$1/$e"
    done
}

for cxx in "${compilers[@]}"; do
    out="$tmp/cmake-$cxx"
    step "find_package, $cxx: configure" cmake -S "$src/examples/cpp" -B "$out" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release
    step "find_package, $cxx: build" cmake --build "$out" -j 2
    step "find_package, $cxx: run" run_examples "$out"
done

pkg_build() {  # pkg_build CXX DIR: each example, as a user with only a compiler and pkg-config
    local cxx="$1" out="$2" e
    mkdir -p "$out"
    for e in "${examples[@]}"; do
        # shellcheck disable=SC2046  # the flags are words
        "$cxx" -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror -o "$out/$e" "$src/examples/cpp/$e.cpp" \
            $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs --static pc5sec)
    done
}
for cxx in "${compilers[@]}"; do
    out="$tmp/pkg-config-$cxx"
    step "pkg-config, $cxx: build" pkg_build "$cxx" "$out"
    step "pkg-config, $cxx: run" run_examples "$out"
done
echo "consumer test: $SECONDS s"
