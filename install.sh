#!/bin/sh
# Builds clbcert from this source tree, or takes the programs of a release
# tarball (--from), and installs it; ./install.sh --help says how. Every file
# it writes is listed, with its checksum, in a manifest, so that running it
# again rewrites only what differs and --uninstall removes exactly what it
# installed.
set -eu

usage() {
	cat <<'EOF'
Usage: ./install.sh [OPTIONS]

Builds clbcert's programs (clbcert-dns, clbcert-deploy, clbcert-watch, clbcert
and every other command under hooks/) from this source tree with the local Go
toolchain, or takes them built from a release tarball (--from), and installs
them with their manual pages and bash and zsh completion. Running it again
rewrites only what differs; a file already as it should be is reported
"unchanged" and left alone.

Besides the programs it installs:
  /etc/clbcert/config.toml   a commented config skeleton, mode 0600, only if
                             no config exists; it replaces only the skeleton of
                             an earlier run, never edited (an edited or other
                             config is never touched)
  /etc/systemd/system/clbcert-watch.service
                             the watcher's unit (not on a machine without
                             systemd, such as a container: that is reported)

Options:
  --from TARBALL    install the programs of a release tarball of
                    scripts/release.sh, clbcert_VERSION_linux_ARCH.tar.gz
                    (or of its unpacked directory), without Go. The
                    install.sh inside an unpacked tarball installs that
                    release by itself.
  --prefix DIR      install under DIR (default /usr/local): DIR/bin,
                    DIR/share/man/man1, DIR/share/bash-completion/completions,
                    DIR/share/zsh/site-functions, and the manifest
                    DIR/share/clbcert/install-manifest
  --destdir DIR     stage the files under DIR for a package (DIR/PREFIX/...,
                    DIR/etc/...): needs no root, installs the systemd units
                    whether or not this machine runs systemd, never runs
                    systemctl
  --renewal-hook    also install /etc/letsencrypt/renewal-hooks/deploy/clbcert-deploy,
                    which certbot runs after every successful renewal: it
                    deploys the renewed certificate with clbcert-deploy
  --certbot-timer   also install /etc/systemd/system/certbot.timer.d/clbcert.conf:
                    certbot's timer runs `certbot renew` twice a day at a
                    random time, and at boot when a run was missed
  --uninstall       remove what the manifest lists: each file still as
                    installed (a file changed since, such as an edited config,
                    is kept and named), then the directories install created,
                    once empty. Give the --prefix and --destdir of the install.
  -h, --help        show this help

Environment: GO, the go command to build with (default: go on PATH, then
/usr/local/go/bin/go); not used with --from.

Exit status: 0 done, 1 failed, 2 usage error.
EOF
}

say() { printf '%s\n' "$*"; }
die() {
	printf 'install.sh: %s\n' "$*" >&2
	exit 1
}
usage_error() {
	printf 'install.sh: %s\n' "$*" >&2
	exit 2
}

nl='
'
prefix=/usr/local
destdir=
destdir_given=0
from=
renewal_hook=0
certbot_timer=0
uninstall=0
while [ $# -gt 0 ]; do
	case $1 in
	--prefix | --destdir)
		[ $# -ge 2 ] || usage_error "$1 needs a directory, e.g. $1 /tmp/pkg"
		opt=$1 val=$2
		shift 2
		;;
	--from)
		[ $# -ge 2 ] || usage_error "--from needs a release tarball, e.g. --from dist/clbcert_1.0.0_linux_amd64.tar.gz"
		opt=$1 val=$2
		shift 2
		;;
	--prefix=* | --destdir=* | --from=*)
		opt=${1%%=*} val=${1#*=}
		shift
		;;
	--renewal-hook | --certbot-timer | --uninstall)
		case $1 in
		--renewal-hook) renewal_hook=1 ;;
		--certbot-timer) certbot_timer=1 ;;
		--uninstall) uninstall=1 ;;
		esac
		shift
		continue
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown option '$1': see ./install.sh --help" ;;
	esac
	case $opt in
	--prefix) prefix=$val ;;
	--from)
		[ -n "$val" ] || usage_error "--from needs a release tarball, e.g. --from dist/clbcert_1.0.0_linux_amd64.tar.gz"
		from=$val
		;;
	--destdir)
		destdir=$val
		destdir_given=1
		;;
	esac
done

# The prefix ends up in the unit's ExecStart and in sed replacements: plain
# absolute paths only.
case $prefix in
/*) ;;
*) usage_error "--prefix '$prefix': give an absolute directory, e.g. --prefix /usr/local" ;;
esac
case $prefix in
*[!A-Za-z0-9/._+-]*) usage_error "--prefix '$prefix': use only letters, digits and / . _ + -" ;;
esac
while [ "${prefix%/}" != "$prefix" ]; do prefix=${prefix%/}; done
[ -n "$prefix" ] || usage_error "--prefix /: give a directory below /, e.g. --prefix /usr/local"
case $destdir in
*"$nl"*) usage_error "--destdir: a directory name with a newline is not supported" ;;
esac
if [ "$destdir_given" = 1 ] && [ -z "$destdir" ]; then
	usage_error "--destdir needs a directory, e.g. --destdir /tmp/pkg"
fi
if [ "$uninstall" = 1 ] && { [ "$renewal_hook" = 1 ] || [ "$certbot_timer" = 1 ] || [ -n "$from" ]; }; then
	usage_error "--uninstall removes everything installed: give it only --prefix and --destdir"
fi

if [ "$destdir_given" = 1 ]; then
	if [ "$uninstall" = 0 ]; then
		mkdir -p "$destdir" || die "--destdir $destdir: cannot create it"
	fi
	[ -d "$destdir" ] || die "--destdir $destdir: no such directory"
	destdir=$(cd "$destdir" && pwd -P)
	[ "$destdir" != / ] || destdir=
elif [ "$(id -u)" != 0 ]; then
	if [ "$uninstall" = 1 ]; then
		die "removing the install from the system needs root: run sudo ./install.sh --uninstall (with the --prefix it was installed with)"
	fi
	die "installing into the system needs root: run sudo ./install.sh, or stage the files with --destdir DIR"
fi

umask 022
work=$(mktemp -d "${TMPDIR:-/tmp}/clbcert-install.XXXXXX")
# installing is 1 from the first file written until the manifest is: a run
# that stops in between still lists what it wrote, so that running it again
# finishes the job and --uninstall removes it.
installing=0
finish() {
	_rc=$?
	if [ "$installing" = 1 ]; then
		installing=0
		if write_manifest >/dev/null 2>&1; then
			printf 'install.sh: stopped part way: %s lists what was installed: fix the cause and run install.sh again to finish (or with --uninstall to remove it)\n' "$manifest" >&2
		else
			printf 'install.sh: stopped part way, and could not list what was installed in %s\n' "$manifest" >&2
		fi
	fi
	rm -rf "$work"
	exit "$_rc"
}
trap finish EXIT
trap 'exit 1' HUP INT TERM
: >"$work/files"
: >"$work/dirs"

manifest_path=$prefix/share/clbcert/install-manifest
manifest=$destdir$manifest_path
unit_path=/etc/systemd/system/clbcert-watch.service

# systemctl runs only for a real install on a machine that runs systemd; a
# staged install gets the units all the same.
units=1
systemctl=0
if [ "$destdir_given" = 0 ]; then
	if [ -d /run/systemd/system ]; then
		systemctl=1
	else
		units=0
	fi
fi

sha256() { sha256sum <"$1" | cut -d' ' -f1; }

# old_entry PATH prints the manifest line of the last install for PATH.
old_entry() {
	[ -f "$manifest" ] || return 0
	while IFS=' ' read -r _kind _sum _mode _path; do
		if [ "$_kind" = file ] && [ "$_path" = "$1" ]; then
			printf 'file %s %s %s\n' "$_sum" "$_mode" "$_path"
		fi
	done <"$manifest"
}

# make_dir PATH creates PATH under destdir with its missing parents and
# notes each one created, for --uninstall.
make_dir() {
	_missing=
	_p=$1
	while [ ! -d "$destdir$_p" ]; do
		_missing=$_p$nl$_missing
		_p=$(dirname "$_p")
	done
	while [ -n "$_missing" ]; do
		_p=${_missing%%"$nl"*}
		_missing=${_missing#*"$nl"}
		mkdir "$destdir$_p" || return 1
		printf 'dir %s\n' "$_p" >>"$work/dirs"
	done
}

# put SRC PATH MODE installs SRC as PATH under destdir, unless PATH already
# holds the same bytes: then its time stamp stays as it is. Sets changed.
put() {
	_dst=$destdir$2
	changed=0
	if [ -f "$_dst" ] && [ ! -L "$_dst" ] && cmp -s "$1" "$_dst"; then
		if [ "$(stat -c %a "$_dst")" = "${3#0}" ]; then
			say "unchanged $_dst"
		else
			chmod "$3" "$_dst"
			say "set mode $3 on $_dst"
		fi
	else
		_verb=installed
		if [ -e "$_dst" ] || [ -L "$_dst" ]; then _verb=updated; fi
		installing=1
		make_dir "$(dirname "$2")"
		# A new file beside the old, renamed over it: a running binary or a
		# reader never sees half a file.
		cp "$1" "$_dst.clbcert-new"
		chmod "$3" "$_dst.clbcert-new"
		mv -f "$_dst.clbcert-new" "$_dst"
		changed=1
		say "$_verb $_dst"
	fi
	printf 'file %s %s %s\n' "$(sha256 "$1")" "$3" "$2" >>"$work/files"
}

# write_manifest lists what this run installed, the files of an earlier
# install that this one did not write (say, the renewal hook of a run with
# --renewal-hook: --uninstall still removes them) and the directories
# install created, and puts the list in place of the old manifest.
write_manifest() {
	if [ -f "$manifest" ]; then
		while IFS=' ' read -r _kind _sum _mode _path; do
			[ "$_kind" = file ] || continue
			[ -e "$destdir$_path" ] || continue
			if cut -d' ' -f4- "$work/files" | grep -qxF -- "$_path"; then continue; fi
			printf 'file %s %s %s\n' "$_sum" "$_mode" "$_path" >>"$work/files"
			say "kept $destdir$_path: installed by an earlier run (--uninstall removes it)"
		done <"$manifest"
	fi
	make_dir "$(dirname "$manifest_path")" || return 1
	if [ -f "$manifest" ]; then
		grep '^dir ' "$manifest" | while IFS=' ' read -r _kind _path; do
			if [ -d "$destdir$_path" ]; then printf 'dir %s\n' "$_path"; fi
		done >>"$work/dirs"
	fi
	{
		say "# clbcert install manifest, written by install.sh. --uninstall removes each"
		say "# file whose checksum still matches, then each directory, once empty."
		LC_ALL=C sort -t' ' -k4 "$work/files"
		LC_ALL=C sort -u "$work/dirs"
	} >"$work/manifest" || return 1
	if [ -f "$manifest" ] && cmp -s "$work/manifest" "$manifest"; then
		say "unchanged $manifest"
		return
	fi
	# The same care as for the other files, and explicit: after a failure
	# this runs where set -e does not stop at the first error.
	cp "$work/manifest" "$manifest.clbcert-new" &&
		chmod 0644 "$manifest.clbcert-new" &&
		mv -f "$manifest.clbcert-new" "$manifest" || return 1
	say "wrote $manifest"
}

do_uninstall() {
	[ -f "$manifest" ] || die "no install manifest at $manifest: give the --prefix and --destdir that install.sh was run with"
	_unit_removed=0
	if [ "$systemctl" = 1 ] && old_entry "$unit_path" | grep -q .; then
		if systemctl disable --now clbcert-watch.service >/dev/null 2>&1; then
			say "stopped and disabled clbcert-watch.service"
		fi
	fi
	while IFS=' ' read -r _kind _sum _mode _path; do
		[ "$_kind" = file ] || continue
		_dst=$destdir$_path
		if [ ! -e "$_dst" ] && [ ! -L "$_dst" ]; then
			say "already gone $_dst"
		elif [ -f "$_dst" ] && [ "$(sha256 "$_dst")" = "$_sum" ]; then
			rm -f "$_dst"
			say "removed $_dst"
			case $_path in /etc/systemd/*) _unit_removed=1 ;; esac
		else
			say "kept $_dst: changed since it was installed"
		fi
	done <"$manifest"
	grep '^dir ' "$manifest" | cut -d' ' -f2- | LC_ALL=C sort -r >"$work/dirs"
	rm -f "$manifest"
	say "removed $manifest"
	while IFS= read -r _path; do
		_dst=$destdir$_path
		[ -d "$_dst" ] || continue
		if rmdir "$_dst" 2>/dev/null; then
			say "removed $_dst/"
		else
			say "kept $_dst/: not empty"
		fi
	done <"$work/dirs"
	if [ "$systemctl" = 1 ] && [ "$_unit_removed" = 1 ]; then
		systemctl daemon-reload
		say "ran systemctl daemon-reload"
	fi
}

if [ "$uninstall" = 1 ]; then
	do_uninstall
	exit 0
fi

command -v sha256sum >/dev/null 2>&1 || die "sha256sum (coreutils) is missing: install it and run this again"
src=$(cd "$(dirname "$0")" && pwd -P)
# The install.sh of an unpacked release tarball installs that release.
if [ -z "$from" ] && [ ! -f "$src/go.mod" ] && [ -f "$src/bin/clbcert" ]; then
	from=$src
fi

# rel is a release laid out as scripts/release.sh packs it: bin/, share/,
# config.toml and clbcert-watch.service. A build from source makes one.
if [ -n "$from" ]; then
	if [ -d "$from" ]; then
		rel=$from
	elif [ -f "$from" ]; then
		mkdir "$work/from"
		tar -xzf "$from" -C "$work/from" 2>"$work/tar-errors" ||
			die "--from $from: cannot unpack it ($(grep -m 1 . "$work/tar-errors")): give a clbcert_VERSION_linux_ARCH.tar.gz that scripts/release.sh wrote"
		set -- "$work/from"/*
		[ $# = 1 ] && [ -d "$1" ] ||
			die "--from $from: not a clbcert release: it must hold one directory, clbcert_VERSION_linux_ARCH"
		rel=$1
	else
		die "--from $from: no such file or directory"
	fi
	for f in bin/clbcert config.toml clbcert-watch.service share/man/man1; do
		[ -e "$rel/$f" ] ||
			die "--from $from: not a clbcert release (no $f in it): give a clbcert_VERSION_linux_ARCH.tar.gz that scripts/release.sh wrote"
	done
	# A staged install may be for another machine; a real one must run.
	if [ "$destdir_given" = 0 ] && ! "$rel/bin/clbcert" --version >/dev/null 2>&1; then
		die "--from $from: its programs do not run on this machine ($(uname -m)): take the tarball of this machine's architecture"
	fi
	say "installing $(basename "$rel") from $from"
	policy="the cam-policy.json in the release"
else
	if [ ! -f "$src/go.mod" ] || [ ! -d "$src/hooks" ]; then
		die "$src is not clbcert's source tree: run the install.sh of a clone, or give --from a release tarball"
	fi
	go=${GO:-}
	if [ -z "$go" ]; then
		if command -v go >/dev/null 2>&1; then
			go=go
		elif [ -x /usr/local/go/bin/go ]; then
			go=/usr/local/go/bin/go
		else
			die "no Go toolchain: install Go (the version go.mod names, from https://go.dev/dl/ into /usr/local/go, or your distribution's golang package), put go on PATH, and run this again; or install a release tarball with --from"
		fi
	fi
	command -v "$go" >/dev/null 2>&1 || die "GO=$go: no such command"

	rel=$work/rel
	mkdir -p "$rel/bin" "$rel/share/man/man1" "$rel/share/bash-completion/completions" "$rel/share/zsh/site-functions"
	# go build stamps the git revision into the binaries, and fails where git
	# refuses to read the clone (one owned by another user, as under sudo):
	# build without the stamp then.
	buildvcs=-buildvcs=auto
	if [ -e "$src/.git" ] && ! git -C "$src" status --porcelain >/dev/null 2>&1; then
		buildvcs=-buildvcs=false
	fi
	say "building the programs under $src/hooks with $("$go" version)"
	# Every command under hooks/ is a program of clbcert's.
	(cd "$src" && CGO_ENABLED=0 "$go" build -trimpath "$buildvcs" -tags urfave_cli_no_docs -o "$rel/bin/" ./hooks/...) ||
		die "go build failed (its messages are above)"
	for b in $(ls "$rel/bin"); do
		"$rel/bin/$b" --generate-man-page >"$rel/share/man/man1/$b.1"
		"$rel/bin/$b" --generate-completion bash >"$rel/share/bash-completion/completions/$b"
		"$rel/bin/$b" --generate-completion zsh >"$rel/share/zsh/site-functions/_$b"
	done
	cp "$src/scripts/install/config.toml" "$rel/config.toml"
	cp "$src/scripts/systemd/clbcert-watch.service" "$rel/clbcert-watch.service"
	policy="scripts/cam-policy.json"
fi

mkdir "$work/gen"
binaries=$(ls "$rel/bin")
for b in $binaries; do
	put "$rel/bin/$b" "$prefix/bin/$b" 0755
	[ "$b" != clbcert-watch ] || watch_changed=$changed
done
for b in $binaries; do
	put "$rel/share/man/man1/$b.1" "$prefix/share/man/man1/$b.1" 0644
	put "$rel/share/bash-completion/completions/$b" "$prefix/share/bash-completion/completions/$b" 0644
	put "$rel/share/zsh/site-functions/_$b" "$prefix/share/zsh/site-functions/_$b" 0644
done

# The config: never overwritten once edited; --uninstall removes it only
# while it is still the skeleton written here. The skeleton of an earlier
# install, never edited, becomes this release's, as dpkg does with a
# conffile.
config_path=/etc/clbcert/config.toml
config=$destdir$config_path
if [ -e "$config" ] || [ -L "$config" ]; then
	earlier=$(old_entry "$config_path")
	if [ -z "$earlier" ]; then
		say "kept $config: it exists, and install.sh never overwrites a config"
	elif cmp -s "$rel/config.toml" "$config"; then
		say "unchanged $config"
	elif [ -f "$config" ] && [ ! -L "$config" ] && [ "$(sha256 "$config")" = "$(printf '%s\n' "$earlier" | cut -d' ' -f2)" ]; then
		put "$rel/config.toml" "$config_path" 0600
		earlier=
	else
		say "kept $config: edited since it was installed"
	fi
	if [ -n "$earlier" ]; then printf '%s\n' "$earlier" >>"$work/files"; fi
else
	put "$rel/config.toml" "$config_path" 0600
fi

if [ "$renewal_hook" = 1 ]; then
	cat >"$work/gen/renewal-hook" <<EOF
#!/bin/sh
# Installed by clbcert's install.sh --renewal-hook. certbot runs every
# executable in this directory after each successful renewal, with
# RENEWED_LINEAGE set to the renewed live/NAME directory, which
# clbcert-deploy then deploys (regions and API key: /etc/clbcert/config.toml).
exec $prefix/bin/clbcert-deploy
EOF
	put "$work/gen/renewal-hook" /etc/letsencrypt/renewal-hooks/deploy/clbcert-deploy 0755
fi

units_changed=0
if [ "$units" = 1 ]; then
	unit_src=$rel/clbcert-watch.service
	grep -q '^ExecStart=[^ ]*/clbcert-watch' "$unit_src" ||
		die "$unit_src has no ExecStart=.../clbcert-watch line to point at $prefix/bin"
	sed "s|^ExecStart=[^ ]*/clbcert-watch|ExecStart=$prefix/bin/clbcert-watch|" "$unit_src" >"$work/gen/clbcert-watch.service"
	put "$work/gen/clbcert-watch.service" "$unit_path" 0644
	units_changed=$changed
	if [ "$certbot_timer" = 1 ]; then
		cat >"$work/gen/certbot-timer.conf" <<'EOF'
# Installed by clbcert's install.sh --certbot-timer. Runs `certbot renew`
# twice a day, each time at a random moment of its half day (as Let's Encrypt
# asks of clients), and at boot when the machine was off at a run's time,
# whatever schedule certbot's package ships. certbot then runs its deploy
# hooks; clbcert-watch notices renewals by itself.
[Timer]
OnCalendar=
OnCalendar=*-*-* 00,12:00:00
RandomizedDelaySec=12h
Persistent=true
EOF
		put "$work/gen/certbot-timer.conf" /etc/systemd/system/certbot.timer.d/clbcert.conf 0644
		[ "$changed" = 0 ] || units_changed=1
	fi
else
	skipped=clbcert-watch.service
	[ "$certbot_timer" = 0 ] || skipped="$skipped and the certbot.timer drop-in"
	say "skipped systemd units ($skipped): no systemd on this machine (/run/systemd/system is missing)"
fi

write_manifest
installing=0

if [ "$systemctl" = 1 ] && [ "$units_changed" = 1 ]; then
	systemctl daemon-reload
	say "ran systemctl daemon-reload"
fi
if [ "$systemctl" = 1 ] && { [ "$units_changed" = 1 ] || [ "$watch_changed" = 1 ]; }; then
	# A running watcher picks up the new binary or unit; a stopped one stays stopped.
	if systemctl try-restart clbcert-watch.service; then
		say "ran systemctl try-restart clbcert-watch.service"
	fi
fi

bin=$prefix/bin
cat <<EOF

Next steps:
  1. Edit $config_path: regions = [...], and the API key of a sub-account
     holding only $policy (or use the CVM role, or put
     TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY in /etc/clbcert/env).
  2. Issue a certificate; certbot keeps the hooks for its renewals:
       certbot certonly --manual --preferred-challenges dns \\
         -d example.com -d '*.example.com' \\
         --manual-auth-hook '$bin/clbcert-dns auth' \\
         --manual-cleanup-hook '$bin/clbcert-dns cleanup'
EOF
if [ "$renewal_hook" = 1 ]; then
	say "     The renewal hook installed here deploys each renewal."
else
	say "     To deploy each renewal, add --deploy-hook '$bin/clbcert-deploy' (or rerun with --renewal-hook)."
fi
if [ "$units" = 1 ]; then
	cat <<EOF
  3. Or let the watcher deploy every renewal, however certbot runs:
       systemctl enable --now clbcert-watch
EOF
else
	cat <<EOF
  3. Or let the watcher deploy every renewal, however certbot runs: without
     systemd, start $bin/clbcert-watch under your supervisor.
EOF
fi
cat <<EOF
  Try a deploy without changing anything:
       $bin/clbcert-deploy --lineage /etc/letsencrypt/live/example.com --dry-run
  Manual: man clbcert-deploy (and clbcert-dns, clbcert-watch, clbcert, clbcert-sim).
EOF
