#!/bin/sh
# Builds clbcert's release artifacts: scripts/release.sh --help says what.
# Two runs on the same source with the same Go give the same bytes.
set -eu

usage() {
	cat <<'EOF'
Usage: scripts/release.sh [--out DIR] [VERSION]

Builds clbcert's release for linux/amd64 and linux/arm64 into DIR (default:
dist/ in the source tree), replacing an earlier release there:
  clbcert_VERSION_linux_ARCH.tar.gz  every program under hooks/, its man page,
                                     bash and zsh completion, the systemd unit,
                                     the config skeleton, the CAM policy,
                                     README.md, COPYRIGHT and install.sh, which
                                     installs them without Go:
                                     install.sh --from clbcert_VERSION_linux_ARCH.tar.gz
  clbcert_VERSION_ARCH.deb           the Debian package: apt install ./clbcert_VERSION_ARCH.deb
                                     Its first install copies the config
                                     skeleton /usr/share/clbcert/config.toml
                                     to /etc/clbcert/config.toml (0600), not
                                     a conffile: an upgrade never touches it
                                     and never asks; purge removes it.
  SHA256SUMS                         the checksums of both: sha256sum -c SHA256SUMS

VERSION is stamped into the programs (--version) and names the package; it
is a Debian version such as 1.2.0 or 1.2.0-1. Default: the tag vVERSION on
HEAD.

The programs are static (CGO_ENABLED=0) and the artifacts reproducible: the
same source and Go version give the same bytes. Every time stamp is
SOURCE_DATE_EPOCH, by default the commit time of HEAD.

Needs: go, dpkg-deb, tar, gzip, sha256sum, and git unless both VERSION and
SOURCE_DATE_EPOCH are given. Environment: GO, the go command (default: go on
PATH, then /usr/local/go/bin/go).

Exit status: 0 done, 1 failed, 2 usage error.
EOF
}

say() { printf '%s\n' "$*"; }
die() {
	printf 'release.sh: %s\n' "$*" >&2
	exit 1
}
usage_error() {
	printf 'release.sh: %s\n' "$*" >&2
	exit 2
}

out=
version=
while [ $# -gt 0 ]; do
	case $1 in
	--out)
		[ $# -ge 2 ] || usage_error "--out needs a directory, e.g. --out /tmp/dist"
		out=$2
		shift 2
		;;
	--out=*)
		out=${1#*=}
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	-*) usage_error "unknown option '$1': see scripts/release.sh --help" ;;
	*)
		[ -z "$version" ] || usage_error "one VERSION only, not '$version' and '$1'"
		version=$1
		shift
		;;
	esac
done

src=$(cd "$(dirname "$0")/.." && pwd -P)
[ -f "$src/go.mod" ] && [ -d "$src/hooks" ] || die "$src is not clbcert's source tree"

if [ -z "$version" ]; then
	tag=$(git -C "$src" describe --tags --exact-match --match 'v[0-9]*' HEAD 2>/dev/null) ||
		usage_error "HEAD has no tag vVERSION: give the version, e.g. scripts/release.sh 1.2.0"
	version=${tag#v}
fi
# A Debian version (upstream[-revision]) that is also a plain file name.
if ! printf '%s\n' "$version" | grep -Eqx '[0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?'; then
	usage_error "version '$version': give a Debian version such as 1.2.0 or 1.2.0-1 (digits first; letters, digits and . + ~, one - before a revision)"
fi

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$src" log -1 --format=%ct HEAD 2>/dev/null) ||
		die "no commit time of HEAD in $src: set SOURCE_DATE_EPOCH (seconds since 1970) to date the artifacts"
fi
case $SOURCE_DATE_EPOCH in
'' | *[!0-9]*) usage_error "SOURCE_DATE_EPOCH '$SOURCE_DATE_EPOCH': give seconds since 1970, e.g. $(date +%s)" ;;
esac
export SOURCE_DATE_EPOCH

go=${GO:-}
if [ -z "$go" ]; then
	if command -v go >/dev/null 2>&1; then
		go=go
	elif [ -x /usr/local/go/bin/go ]; then
		go=/usr/local/go/bin/go
	else
		die "no Go toolchain: install the Go that go.mod names and put go on PATH"
	fi
fi
for tool in "$go" dpkg-deb tar gzip sha256sum md5sum; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: install it (dpkg-deb: apt-get install dpkg) and run this again"
done
[ "$("$go" env GOHOSTOS)" = linux ] || die "run this on Linux: the man pages and completion are written by running the programs"

out=${out:-$src/dist}
mkdir -p "$out" || die "--out $out: cannot create it"
out=$(cd "$out" && pwd -P)

# Every file gets its mode set here; the umask only keeps the work dir private.
umask 077
export LC_ALL=C TZ=UTC
work=$(mktemp -d "${TMPDIR:-/tmp}/clbcert-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

arches="amd64 arm64"
hostarch=$("$go" env GOHOSTARCH)
build_arches=$arches
case " $arches " in
*" $hostarch "*) ;;
*) build_arches="$arches $hostarch" ;;
esac

say "building clbcert $version with $("$go" version), SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
for arch in $build_arches; do
	mkdir -p "$work/$arch/bin"
	# No build id, VCS stamp or local path in the programs: what differs
	# between two checkouts or two runs. urfave_cli_no_docs leaves out
	# urfave/cli's man-page writer: the pages come from the programs' own.
	(cd "$src" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOAMD64=v1 GOARM64=v8.0 \
		"$go" build -trimpath -buildvcs=false -tags urfave_cli_no_docs \
		-ldflags "-s -w -buildid= -X github.com/clbcert/clbcert/internal/version.Version=$version" \
		-o "$work/$arch/bin/" ./hooks/...) ||
		die "go build for linux/$arch failed (its messages are above)"
	chmod 0755 "$work/$arch/bin/"*
done
names=$(cd "$work/$hostarch/bin" && ls)
say "programs: $(echo $names)"

# Man pages and completion come from the programs' own definitions, as
# install.sh writes them.
gen=$work/gen
mkdir -p "$gen/man1" "$gen/bash" "$gen/zsh"
for b in $names; do
	got=$("$work/$hostarch/bin/$b" --version) || die "$b --version failed"
	[ "$got" = "$b version $version" ] || die "$b --version says '$got', not '$b version $version': its main must set cli.App.Version to version.Version"
	"$work/$hostarch/bin/$b" --generate-man-page >"$gen/man1/$b.1"
	"$work/$hostarch/bin/$b" --generate-completion bash >"$gen/bash/$b"
	"$work/$hostarch/bin/$b" --generate-completion zsh >"$gen/zsh/_$b"
done

# The copyright notice: the programs embed Go's standard library and these
# modules. Each license text comes once, after the modules under it, and
# each NOTICE file (which the Apache License asks to pass on) after that.
(cd "$src" && GOOS=linux CGO_ENABLED=0 "$go" list -deps \
	-f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}' ./hooks/...) |
	sort -u >"$work/modules"
printf 'go %s %s\n' "$("$go" env GOVERSION)" "$("$go" env GOROOT)" >>"$work/modules"
: >"$work/licenses"
: >"$work/notices"
while read -r path ver dir; do
	lic=
	for f in "$dir"/LICENSE "$dir"/LICENSE.txt "$dir"/LICENSE.md "$dir"/COPYING; do
		if [ -f "$f" ]; then
			lic=$f
			break
		fi
	done
	[ -n "$lic" ] || die "module $path $ver: no LICENSE or COPYING file in $dir: add its license to scripts/release.sh by hand"
	printf '%s %s %s\n' "$(sha256sum <"$lic" | cut -c1-64)" "$lic" "$path $ver" >>"$work/licenses"
	if [ -f "$dir/NOTICE" ]; then printf '%s %s\n' "$dir/NOTICE" "$path $ver" >>"$work/notices"; fi
done <"$work/modules"

# copyright FORM writes the notice; FORM debian points to Debian's copy of
# the Apache License instead of repeating it, as Debian policy asks.
copyright() {
	cat <<EOF
clbcert $version
Source: https://github.com/clbcert/clbcert

Copyright: the clbcert authors. clbcert's own terms are those its source
repository states.

The programs are statically linked: they contain the Go standard library
and the Go modules below, each under the license that follows its list.
EOF
	for sum in $(cut -d' ' -f1 "$work/licenses" | sort -u); do
		printf '\n%s\n\n' '------------------------------------------------------------------------'
		grep "^$sum " "$work/licenses" | cut -d' ' -f3- | sort
		echo
		lic=$(grep -m1 "^$sum " "$work/licenses" | cut -d' ' -f2)
		if [ "$1" = debian ] && grep -q 'Apache License' "$lic" && grep -q 'Version 2.0, January 2004' "$lic"; then
			say "The Apache License, Version 2.0: on Debian systems its complete text is in"
			say "/usr/share/common-licenses/Apache-2.0."
		else
			cat "$lic"
		fi
	done
	while read -r notice module; do
		printf '\n%s\n\nNOTICE of %s:\n\n' '------------------------------------------------------------------------' "$module"
		cat "$notice"
	done <"$work/notices"
}
copyright full >"$gen/COPYRIGHT"
copyright debian >"$gen/copyright.debian"

# stamp DIR sets every time stamp under DIR to SOURCE_DATE_EPOCH.
stamp() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

# put SRC DST MODE copies SRC to DST, creating DST's directories 0755.
put() {
	mkdir -p "$(dirname "$2")"
	cp "$1" "$2"
	chmod "$3" "$2"
}

debian_changelog() {
	cat <<EOF
clbcert ($version) unstable; urgency=medium

  * Release $version, built by scripts/release.sh.

 -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF
}

maintainer="clbcert developers <clbcert@users.noreply.github.com>"
mkdir -p "$work/dist"
for arch in $arches; do
	# The tarball: one directory, laid out as install.sh --from reads it.
	top=clbcert_${version}_linux_$arch
	t=$work/tar/$top
	for b in $names; do
		put "$work/$arch/bin/$b" "$t/bin/$b" 0755
		put "$gen/man1/$b.1" "$t/share/man/man1/$b.1" 0644
		put "$gen/bash/$b" "$t/share/bash-completion/completions/$b" 0644
		put "$gen/zsh/_$b" "$t/share/zsh/site-functions/_$b" 0644
	done
	put "$src/scripts/systemd/clbcert-watch.service" "$t/clbcert-watch.service" 0644
	put "$src/scripts/install/config.toml" "$t/config.toml" 0644
	put "$src/scripts/cam-policy.json" "$t/cam-policy.json" 0644
	put "$src/README.md" "$t/README.md" 0644
	put "$gen/COPYRIGHT" "$t/COPYRIGHT" 0644
	put "$src/install.sh" "$t/install.sh" 0755
	find "$t" -type d -exec chmod 0755 {} +
	stamp "$t"
	tar -C "$work/tar" --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" \
		--owner=0 --group=0 --numeric-owner -cf - "$top" | gzip -n >"$work/dist/$top.tar.gz"
	rm -rf "$work/tar"

	# The Debian package.
	r=$work/deb
	for b in $names; do
		put "$work/$arch/bin/$b" "$r/usr/bin/$b" 0755
		mkdir -p "$r/usr/share/man/man1"
		gzip -n -9 -c "$gen/man1/$b.1" >"$r/usr/share/man/man1/$b.1.gz"
		chmod 0644 "$r/usr/share/man/man1/$b.1.gz"
		put "$gen/bash/$b" "$r/usr/share/bash-completion/completions/$b" 0644
		put "$gen/zsh/_$b" "$r/usr/share/zsh/vendor-completions/_$b" 0644
	done
	mkdir -p "$r/lib/systemd/system"
	sed 's|^ExecStart=[^ ]*/clbcert-watch|ExecStart=/usr/bin/clbcert-watch|' \
		"$src/scripts/systemd/clbcert-watch.service" >"$r/lib/systemd/system/clbcert-watch.service"
	chmod 0644 "$r/lib/systemd/system/clbcert-watch.service"
	grep -qx 'ExecStart=/usr/bin/clbcert-watch' "$r/lib/systemd/system/clbcert-watch.service" ||
		die "scripts/systemd/clbcert-watch.service has no ExecStart=.../clbcert-watch line to point at /usr/bin"
	# The config skeleton, which postinst copies to /etc/clbcert/config.toml
	# on a first install. Not a conffile there: dpkg would ask on an upgrade
	# what to do with an edited one, and fail without a terminal.
	put "$src/scripts/install/config.toml" "$r/usr/share/clbcert/config.toml" 0644
	doc=$r/usr/share/doc/clbcert
	put "$gen/copyright.debian" "$doc/copyright" 0644
	put "$src/scripts/cam-policy.json" "$doc/cam-policy.json" 0644
	gzip -n -9 -c "$src/README.md" >"$doc/README.md.gz"
	put "$src/scripts/debian/lintian-overrides" "$r/usr/share/lintian/overrides/clbcert" 0644
	# A version with a revision is a non-native package's: Debian names its
	# changelog changelog.Debian.gz then, changelog.gz otherwise.
	case $version in
	*-*) changelog=changelog.Debian.gz ;;
	*) changelog=changelog.gz ;;
	esac
	debian_changelog | gzip -n -9 >"$doc/$changelog"
	chmod 0644 "$doc/README.md.gz" "$doc/$changelog"

	mkdir -p "$r/DEBIAN"
	(cd "$r" && find usr lib -type f | sort | xargs md5sum) >"$r/DEBIAN/md5sums"
	# Installed-Size as dpkg-gencontrol counts: KiB per file, rounded up,
	# and one per directory.
	size=$(cd "$r" && find usr lib -printf '%y %s\n' |
		awk '$1 == "d" { n += 1; next } { n += int(($2 + 1023) / 1024) } END { print n }')
	cat >"$r/DEBIAN/control" <<EOF
Package: clbcert
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Recommends: certbot
Section: admin
Priority: optional
Homepage: https://github.com/clbcert/clbcert
Description: keep HTTPS on Tencent Cloud load balancers renewed with certbot
 Certbot issues and renews Let's Encrypt certificates; clbcert's programs
 are what it calls. clbcert-dns answers DNS-01 challenges through the DNSPod
 API (wildcard certificates included), clbcert-deploy uploads each renewed
 certificate to Tencent Cloud SSL and binds it to every CLB listener and SNI
 domain that should serve it, clbcert-watch deploys whenever certbot renews,
 and clbcert shows, audits and tunes what is served where.
 .
 The clbcert-watch service is installed but neither enabled nor started.
EOF
	for s in postinst prerm postrm; do
		put "$src/scripts/debian/$s" "$r/DEBIAN/$s" 0755
	done
	chmod 0644 "$r/DEBIAN/control" "$r/DEBIAN/md5sums"
	find "$r" -type d -exec chmod 0755 {} +
	stamp "$r"
	threads=
	if dpkg-deb --help | grep -q -- --threads-max; then threads=--threads-max=1; fi
	dpkg-deb --root-owner-group -Zxz $threads --build "$r" "$work/dist/clbcert_${version}_$arch.deb" >/dev/null ||
		die "dpkg-deb failed to build the $arch package (its messages are above)"
	rm -rf "$r"
done

(cd "$work/dist" && sha256sum clbcert_*) >"$work/dist/SHA256SUMS"
chmod 0644 "$work/dist/"*
rm -f "$out"/clbcert_*.tar.gz "$out"/clbcert_*.deb "$out/SHA256SUMS"
mv "$work/dist/"* "$out/"
cat "$out/SHA256SUMS"
say "wrote $out: check with (cd $out && sha256sum -c SHA256SUMS)"
