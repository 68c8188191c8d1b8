#!/bin/sh
# install-check.sh MESON BUILD PREFIX LIBDIR EXAMPLES MOCKDRM(true|false)
#
# Install BUILD into a temporary DESTDIR and use it as a driver project
# would: build the example driver (EXAMPLES/driver-embed.c and driver-hw.c)
# with the flags of the installed gpuvm-core.pc only (PKG_CONFIG_LIBDIR and
# PKG_CONFIG_SYSROOT_DIR point into the DESTDIR), once against the shared
# and once against the static library, and run both. Check that the core
# library and its .pc know nothing of libdrm, that it exports the public
# API only, and where the mock's libraries went. With the mock: build
# EXAMPLES/mockdrm-direct.c against the installed gpuvm-mockdrm.pc and run
# it on the installed library, and run EXAMPLES/mesa-like.c under the shim
# installed in LIBDIR/gpuvm/.
set -eu
meson=$1 build=$2 prefix=$3 libdir=$4 examples=$5 mockdrm=$6
example="$examples/driver-embed.c $examples/driver-hw.c"
cc=${CC:-cc}
case $libdir in
/*) ;;
*) libdir=$prefix/$libdir ;;
esac

fail()
{
	echo "install-check: $*" >&2
	exit 1
}

work=$(mktemp -d "$build/install-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/dest
lib=$dest$libdir
if ! "$meson" install -C "$build" --no-rebuild --destdir "$dest" >"$work/install.log" 2>&1; then
	cat "$work/install.log" >&2
	fail "meson install failed"
fi
for f in libgpuvm-core.so.0 libgpuvm-core.a pkgconfig/gpuvm-core.pc; do
	[ -e "$lib/$f" ] || fail "$libdir/$f not installed"
done
for h in pt.h pt_pool.h gvm.h gvm_kva.h print_file.h; do
	[ -e "$dest$prefix/include/gpuvm/$h" ] || fail "include/gpuvm/$h not installed"
done

# No libdrm in the core: not NEEDED by the library, not in its .pc.
readelf -d "$lib/libgpuvm-core.so.0" >"$work/core.dyn"
grep NEEDED "$work/core.dyn"
if grep NEEDED "$work/core.dyn" | grep -qi drm; then
	fail "libgpuvm-core.so needs libdrm"
fi
if grep -qi drm "$lib/pkgconfig/gpuvm-core.pc"; then
	fail "gpuvm-core.pc mentions drm"
fi
grep -q 'SONAME.*\[libgpuvm-core\.so\.0\]' "$work/core.dyn" || fail "soname is not libgpuvm-core.so.0"
# The export map (gpuvm.map): only the modules' public functions.
nm -D --defined-only "$lib/libgpuvm-core.so.0" | awk '$2 != "A" { print $3 }' >"$work/core.syms"
others=$(grep -Ev '^(pt|gvm|gpuvm)_[a-z0-9_]+@@GPUVM_[0-9.]+$' "$work/core.syms" || true)
[ -z "$others" ] || fail "libgpuvm-core.so exports more than the API: $others"
grep -q '^gvm_bind_commit@@GPUVM_' "$work/core.syms" || fail "gvm_bind_commit not exported"

# The example, built by the installed .pc's flags alone.
PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
unset PKG_CONFIG_PATH || true
cflags=$(pkg-config --cflags gpuvm-core) || fail "pkg-config --cflags gpuvm-core"
libs=$(pkg-config --libs gpuvm-core) || fail "pkg-config --libs gpuvm-core"
static_libs=$(pkg-config --static --libs gpuvm-core | sed 's/-lgpuvm-core/-l:libgpuvm-core.a/')
echo "gpuvm-core.pc: cflags '$cflags', libs '$libs', static '$static_libs'"
# shellcheck disable=SC2086 # word splitting of the flags is meant
$cc -std=c11 -Wall -Wextra -Werror $cflags $example $libs -o "$work/embed-shared" ||
	fail "building the example against the shared library failed"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror $cflags $example $static_libs -o "$work/embed-static" ||
	fail "building the example against the static library failed"
readelf -d "$work/embed-shared" | grep -q 'NEEDED.*\[libgpuvm-core\.so\.0\]' ||
	fail "the shared example does not need libgpuvm-core.so.0"
if readelf -d "$work/embed-static" | grep -q 'NEEDED.*libgpuvm'; then
	fail "the static example needs a gpuvm shared library"
fi
LD_LIBRARY_PATH=$lib ldd "$work/embed-shared" | grep -F "$lib/libgpuvm-core.so.0" ||
	fail "the shared example does not load the installed library"
LD_LIBRARY_PATH=$lib "$work/embed-shared" >"$work/shared.out" 2>&1 ||
	{ cat "$work/shared.out" >&2; fail "the example (shared) failed"; }
"$work/embed-static" >"$work/static.out" 2>&1 ||
	{ cat "$work/static.out" >&2; fail "the example (static) failed"; }
tail -n 2 "$work/shared.out"

# The preload libraries: under libdir/gpuvm/, never linkable from libdir.
for f in libgpuvm-mockdrm-shim.so libgpuvm-trace.so libgpuvm.so; do
	[ ! -e "$lib/$f" ] || fail "$libdir/$f installed in the public libdir"
done
if [ "$mockdrm" != true ]; then
	for f in libgpuvm-mockdrm.so.0 gpuvm pkgconfig/gpuvm-mockdrm.pc; do
		[ ! -e "$lib/$f" ] || fail "$libdir/$f installed by a build without the mock"
	done
	[ ! -e "$dest$prefix/include/gpuvm/mockdrm.h" ] || fail "mockdrm.h installed without the mock"
	echo "install-check: core alone installed and used"
	exit 0
fi
shim=$libdir/gpuvm/libgpuvm-mockdrm-shim.so
for f in "$shim" "$libdir/gpuvm/libgpuvm-trace.so" "$libdir/libgpuvm-mockdrm.so.0" \
	"$libdir/pkgconfig/gpuvm-mockdrm.pc" "$prefix/include/gpuvm/mockdrm.h"; do
	[ -e "$dest$f" ] || fail "$f not installed"
done
# The installed tools look for the shim where it installs.
for tool in gpuvm-exercise gpuvm-trace gpuvm-ptdump; do
	grep -qaF "$shim" "$dest$prefix/bin/$tool" || fail "$tool does not look for $shim"
done
GPUVM_MOCKDRM_SHIM=$dest$shim "$dest$prefix/bin/gpuvm-exercise" --ops 50 --seed 1 --no-progress \
	>"$work/exercise.out" 2>&1 || { cat "$work/exercise.out" >&2; fail "installed exerciser"; }
# The mock library uses the core's, and exports its own API only.
readelf -d "$lib/libgpuvm-mockdrm.so.0" | grep -q 'NEEDED.*\[libgpuvm-core\.so\.0\]' ||
	fail "libgpuvm-mockdrm.so does not need libgpuvm-core.so.0"
nm -D --defined-only "$lib/libgpuvm-mockdrm.so.0" | awk '$2 != "A" { print $3 }' >"$work/mock.syms"
others=$(grep -Ev '^mockdrm_[a-z0-9_]+@@GPUVM_MOCKDRM_[0-9.]+$' "$work/mock.syms" || true)
[ -z "$others" ] || fail "libgpuvm-mockdrm.so exports more than its API: $others"
requires=$(grep '^Requires:' "$lib/pkgconfig/gpuvm-mockdrm.pc")
case $requires in
*gpuvm-core*libdrm* | *libdrm*gpuvm-core*) ;;
*) fail "gpuvm-mockdrm.pc: '$requires' lacks gpuvm-core or libdrm" ;;
esac

# A program on the installed mock library. gpuvm-mockdrm.pc requires the
# machine's libdrm.pc, which a sysroot would move: the installed .pc files
# are read from a copy whose prefix is where DESTDIR put them instead.
mkdir "$work/pc"
for pc in gpuvm-core gpuvm-mockdrm; do
	sed "s|^prefix=.*|prefix=$dest$prefix|" "$lib/pkgconfig/$pc.pc" >"$work/pc/$pc.pc"
done
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
PKG_CONFIG_PATH=$work/pc
export PKG_CONFIG_PATH
mock_cflags=$(pkg-config --cflags gpuvm-mockdrm) || fail "pkg-config --cflags gpuvm-mockdrm"
mock_libs=$(pkg-config --libs gpuvm-mockdrm) || fail "pkg-config --libs gpuvm-mockdrm"
echo "gpuvm-mockdrm.pc: cflags '$mock_cflags', libs '$mock_libs'"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror $mock_cflags "$examples/mockdrm-direct.c" $mock_libs \
	-o "$work/mockdrm-direct" || fail "building mockdrm-direct.c on gpuvm-mockdrm.pc failed"
LD_LIBRARY_PATH=$lib ldd "$work/mockdrm-direct" | grep -F "$lib/libgpuvm-mockdrm.so.0" ||
	fail "mockdrm-direct does not load the installed mock library"
LD_LIBRARY_PATH=$lib "$work/mockdrm-direct" >"$work/direct.out" 2>&1 ||
	{ cat "$work/direct.out" >&2; fail "mockdrm-direct failed on the installed library"; }
cat "$work/direct.out"

# A libdrm client (no gpuvm library linked) under the installed shim. It
# uses POSIX and GNU calls (clock_gettime, O_CLOEXEC), as the project builds.
drm_libs=$(pkg-config --libs libdrm) || fail "pkg-config --libs libdrm"
# shellcheck disable=SC2086
$cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $mock_cflags "$examples/mesa-like.c" \
	$drm_libs -o "$work/mesa-like" || fail "building mesa-like.c failed"
LD_PRELOAD=$dest$shim "$work/mesa-like" >"$work/mesa.out" 2>&1 ||
	{ cat "$work/mesa.out" >&2; fail "mesa-like failed under the installed shim $shim"; }
tail -n 1 "$work/mesa.out"
echo "install-check: core and mock installed; the examples run on the installed libraries"
