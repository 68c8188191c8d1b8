#!/bin/sh
# nomock-build.sh MESON SOURCE WORK
#
# Configure SOURCE with -Dmockdrm=false in WORK/build, where pkg-config
# finds every package of the machine except libdrm, build it and run its
# tests (the core's, and its own install-check; not the suites style and
# kmod, which build runs already on the same sources); check that nothing
# in that build refers to libdrm or the mock.
set -eu
meson=$1 source=$2 work=$3

fail()
{
	echo "nomock-build: $*" >&2
	exit 1
}

rm -rf "$work"
mkdir -p "$work/pkgconfig"
# The machine's .pc files, less libdrm's.
for dir in $(pkg-config --variable pc_path pkg-config | tr : ' ') ${PKG_CONFIG_PATH:+$(echo "$PKG_CONFIG_PATH" | tr : ' ')}; do
	for pc in "$dir"/*.pc; do
		[ -e "$pc" ] || continue
		case ${pc##*/} in
		libdrm*) ;;
		*) ln -sf "$pc" "$work/pkgconfig/" ;;
		esac
	done
done
PKG_CONFIG_LIBDIR=$work/pkgconfig
export PKG_CONFIG_LIBDIR
unset PKG_CONFIG_PATH || true
if pkg-config --exists libdrm; then
	fail "libdrm still visible to pkg-config"
fi

start=$(date +%s)
"$meson" setup -Dmockdrm=false "$work/build" "$source" >"$work/setup.log" 2>&1 ||
	{ cat "$work/setup.log" >&2; fail "configure failed"; }
ninja -C "$work/build" -j2 >"$work/ninja.log" 2>&1 ||
	{ tail -n 40 "$work/ninja.log" >&2; fail "build failed"; }
built=$(date +%s)
if grep -Eq 'libdrm|mockdrm/|uapi/' "$work/build/build.ninja"; then
	grep -E 'libdrm|mockdrm/|uapi/' "$work/build/build.ninja" | head -n 5 >&2
	fail "the build refers to libdrm or the mock"
fi
# One test at a time: test-kva's threads must meet on two CPUs to find its
# lock contended, and a second test beside them makes that rarer.
"$meson" test -C "$work/build" --no-rebuild --print-errorlogs --num-processes 1 \
	--no-suite style --no-suite kmod ||
	fail "tests failed in the build without the mock"
tested=$(date +%s)
echo "nomock-build: configure+build $((built - start)) s, tests $((tested - built)) s"
rm -rf "$work"
