# shellcheck shell=bash
# Helpers sourced by scripts/up and scripts/test (bash 4.4+; the callers set -euo pipefail).
#
#   ainvr_python             find Python >= 3.11 with a working venv module   -> AINVR_PY
#   ainvr_venv REQFILE       virtualenv for REQFILE, built once per hash       -> AINVR_VENV (path also on stdout)
#   ainvr_app_venv           the running system's virtualenv (AINVR_REQUIREMENTS) -> AINVR_VENV
#   ainvr_app_env            the running system's defaults (DATA_DIR, DEBUG, REDIS_URL) unless set
#   ainvr_redis URL DIR      make sure a Redis answers at URL, starting one     -> AINVR_REDIS_PID, AINVR_REDIS_DIR
#   ainvr_redis_stop DIR     stop the Redis that ainvr_redis started in DIR (and only that one)
#                            (both call core/local_redis.py, which the tests use too)
#   ainvr_os_packages PKG... install the Debian packages that are missing (apt-get, sudo when not root)
#
# Errors end the calling script with one line "ainvr: error: ..." on stderr.

ainvr_say() { printf 'ainvr: %s\n' "$*" >&2; }
ainvr_die() {
	printf 'ainvr: error: %s\n' "$*" >&2
	exit 1
}

# Run a command as root: directly when we are root, else through sudo (non-interactive sudo
# when there is no terminal to type a password into, e.g. on CI).
ainvr_as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
	else
		ainvr_die "root is needed to run '$*' and sudo is not installed"
	fi
}

# ainvr_apt_install PKG...: apt-get update, then install PKG... without recommends.
ainvr_apt_install() {
	[ "$#" -gt 0 ] || return 0
	command -v apt-get >/dev/null 2>&1 || ainvr_die "cannot install $*: apt-get not found (not Debian/Ubuntu?); install them by hand"
	ainvr_say "installing Debian packages with apt-get: $*"
	ainvr_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
		ainvr_die "apt-get update failed (needed to install $*)"
	ainvr_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 ||
		ainvr_die "apt-get install $* failed"
}

# ainvr_os_packages PKG...: install those of PKG... that dpkg does not list as installed.
ainvr_os_packages() {
	[ "$#" -gt 0 ] || return 0
	if ! command -v dpkg-query >/dev/null 2>&1; then
		ainvr_say "not a Debian/Ubuntu system: make sure these (Debian names) are installed: $*"
		return 0
	fi
	local pkg missing=()
	for pkg in "$@"; do
		# shellcheck disable=SC2016  # ${Status} is dpkg-query's format, not ours
		if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
			missing+=("$pkg")
		fi
	done
	[ "${#missing[@]}" -eq 0 ] || ainvr_apt_install "${missing[@]}"
}

# ainvr_python: sets AINVR_PY to the absolute path of a Python >= 3.11 whose venv module works
# (installing Debian's python3-venv when it is missing). AINVR_PYTHON=/path/to/python overrides.
ainvr_python() {
	local cand py=""
	for cand in ${AINVR_PYTHON:-} python3 python3.14 python3.13 python3.12 python3.11; do
		command -v "$cand" >/dev/null 2>&1 || continue
		if "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
			py=$("$cand" -c 'import sys; print(sys.executable)') && [ -n "$py" ] && break
			py=""
		fi
	done
	[ -n "$py" ] || ainvr_die "Python 3.11 or newer is required but none was found (tried ${AINVR_PYTHON:+$AINVR_PYTHON, }python3, python3.14 ... python3.11)"

	local venv_check='import venv, ensurepip; ensurepip.version()'
	if ! "$py" -c "$venv_check" >/dev/null 2>&1; then
		local ver pkg=python3-venv
		ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
		# python3-venv only covers the distribution's default python3.
		if [ "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$ver" ]; then
			pkg="python$ver-venv"
		fi
		ainvr_say "'$py -m venv' does not work here: installing $pkg with apt-get"
		ainvr_apt_install "$pkg"
		"$py" -c "$venv_check" >/dev/null 2>&1 || ainvr_die "'$py -m venv' still does not work after installing $pkg"
	fi
	AINVR_PY=$py
}

# ainvr_app_venv: the virtualenv the running system uses (scripts/up, scripts/manage):
# AINVR_REQUIREMENTS, by default requirements/cpu.txt (e.g. requirements/gpu.txt, or
# requirements/cpu-ultralytics.txt for the ultralytics extra). Sets AINVR_VENV.
ainvr_app_venv() {
	ainvr_venv "${AINVR_REQUIREMENTS:-requirements/cpu.txt}" >/dev/null
}

# ainvr_app_env: the defaults the running system uses (scripts/up, scripts/manage), exported where
# neither the environment nor the .env file (ENV_FILE) sets them: data under ./data, a local Redis,
# DEBUG on (a trial on one machine; a server sets DEBUG=false and a SECRET_KEY in .env).
ainvr_app_env() {
	local root envfile
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	envfile=${ENV_FILE:-$root/.env}
	ainvr_env_default DATA_DIR "$root/data" "$envfile"
	ainvr_env_default DEBUG true "$envfile"
	ainvr_env_default REDIS_URL redis://127.0.0.1:6379/0 "$envfile"
	export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-ainvr.settings}"
}

# ainvr_env_default NAME VALUE ENVFILE: unless NAME is set, export ENVFILE's value for it (its
# last NAME=... line, quotes stripped), or else VALUE.
ainvr_env_default() {
	[ -z "${!1+x}" ] || return 0
	local line="" value=$2
	if [ -f "$3" ]; then
		line=$(grep -E "^[[:space:]]*(export[[:space:]]+)?$1[[:space:]]*=" "$3" | tail -n 1) || true
	fi
	if [ -n "$line" ]; then
		value=${line#*=}
		value=${value#"${value%%[![:space:]]*}"}
		value=${value%"${value##*[![:space:]]}"}
		case $value in \"*\") value=${value:1:-1} ;; \'*\') value=${value:1:-1} ;; esac
	fi
	export "$1=$value"
}

# ainvr_venv REQFILE: a virtualenv with REQFILE installed, at
#   ${AINVR_VENV_ROOT:-$HOME/.cache/ainvr/venvs}/<REQFILE name without .txt>-<hash12>
# where the hash covers every *.txt beside REQFILE (the -r chain) and the Python used. Built once
# (pip upgraded first; then nodeps.txt beside it, with --no-deps), marked complete only after pip succeeded, reused after that; a directory
# without the marker is a failed or interrupted build and is rebuilt. The 3 most recently used
# venvs of the same name are kept, older ones deleted. Sets AINVR_VENV and prints its path.
ainvr_venv() {
	local req=${1:?usage: ainvr_venv REQFILE}
	[ -f "$req" ] || ainvr_die "requirements file $req not found"
	[ -n "${AINVR_PY:-}" ] || ainvr_python
	local root=${AINVR_VENV_ROOT:-$HOME/.cache/ainvr/venvs}
	local reqdir name hash dir marker=.ainvr-complete lockfd=""
	reqdir=$(cd "$(dirname "$req")" && pwd)
	req=$reqdir/$(basename "$req")
	name=$(basename "$req" .txt)
	hash=$(
		set -euo pipefail
		"$AINVR_PY" -c 'import platform, sys; print(sys.version); print(sys.executable); print(platform.machine())'
		for f in "$reqdir"/*.txt; do
			printf '=== %s\n' "$(basename "$f")"
			cat "$f"
		done
	) || ainvr_die "cannot hash the requirements in $reqdir"
	hash=$(printf '%s\n' "$hash" | sha256sum | cut -c1-12)
	dir=$root/$name-$hash
	mkdir -p "$root" || ainvr_die "cannot create $root (set AINVR_VENV_ROOT to a writable directory)"

	# One build at a time per requirement name (two shells, or CI beside a developer).
	if command -v flock >/dev/null 2>&1; then
		exec {lockfd}>"$root/.$name.lock"
		if ! flock -n "$lockfd"; then
			ainvr_say "waiting for another process building a $name virtualenv in $root"
			flock "$lockfd"
		fi
	fi

	if [ -f "$dir/$marker" ] && ! "$dir/bin/python" -c '' >/dev/null 2>&1; then
		ainvr_say "virtualenv $dir is broken (its Python is gone?): rebuilding it"
		rm -f "$dir/$marker"
	fi
	if [ -f "$dir/$marker" ]; then
		touch "$dir/$marker" # most recently used, for the pruning below
		[ -n "${AINVR_QUIET:-}" ] || ainvr_say "using virtualenv $dir"
	else
		if [ -e "$dir" ]; then
			ainvr_say "removing the unfinished virtualenv $dir"
			rm -rf "$dir"
		fi
		ainvr_say "building virtualenv $dir from $req (once per change of requirements)"
		if ! {
			"$AINVR_PY" -m venv "$dir" >&2 &&
				"$dir/bin/python" -m pip install --disable-pip-version-check --upgrade pip >&2 &&
				"$dir/bin/python" -m pip install --disable-pip-version-check -r "$req" >&2 &&
				{ [ ! -f "$reqdir/nodeps.txt" ] ||
					"$dir/bin/python" -m pip install --disable-pip-version-check --no-deps -r "$reqdir/nodeps.txt" >&2; }
		}; then
			rm -rf "$dir"
			ainvr_die "building the virtualenv from $req failed (see pip's output above)"
		fi
		printf 'requirements: %s\npython: %s\nbuilt: %s\n' "$req" "$AINVR_PY" "$(date -u +%FT%TZ)" >"$dir/$marker"
		ainvr_say "virtualenv ready: $dir"
	fi

	# Keep the 3 most recently used complete venvs of this name; drop the rest and any leftovers
	# of unfinished builds (we hold the lock, so no build of this name is running).
	local old kept=0
	while IFS= read -r old; do
		[ "$old" = "$dir" ] && continue
		kept=$((kept + 1))
		if [ "$kept" -ge 3 ]; then
			ainvr_say "removing old virtualenv $old"
			rm -rf "$old"
		fi
	done < <(
		for d in "$root/$name"-????????????; do
			[ -d "$d" ] || continue
			if [ -f "$d/$marker" ]; then
				printf '%s %s\n' "$(stat -c %Y "$d/$marker")" "$d"
			else
				printf '0 %s\n' "$d"
			fi
		done | sort -rn | cut -d' ' -f2-
	)
	for old in "$root/$name"-????????????; do
		if [ -d "$old" ] && [ ! -f "$old/$marker" ]; then
			ainvr_say "removing unfinished virtualenv $old"
			rm -rf "$old"
		fi
	done

	if [ -n "$lockfd" ]; then exec {lockfd}>&-; fi
	AINVR_VENV=$dir
	printf '%s\n' "$dir"
}

# ainvr_local_redis ARGS...: core/local_redis.py's CLI (the venv's Python, from the repository
# root); it prints its own "ainvr: error: ..." line.
ainvr_local_redis() {
	local root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	(cd "$root" && exec "${AINVR_VENV:?ainvr_venv must run first}/bin/python" -m core.local_redis "$@")
}

# ainvr_redis_ping URL: true when a Redis answers PING at URL.
ainvr_redis_ping() { ainvr_local_redis ping "$1" >/dev/null 2>&1; }

# ainvr_redis URL DIR: nothing when a Redis answers PING at URL; otherwise start one there, its
# files in DIR (see core/local_redis.py). Sets AINVR_REDIS_PID and AINVR_REDIS_DIR when it
# started one (empty otherwise).
ainvr_redis() {
	local url=${1:?usage: ainvr_redis URL DIR} dir=${2:?usage: ainvr_redis URL DIR}
	case $dir in /*) ;; *) dir=$PWD/$dir ;; esac # the CLI runs from the repository root
	AINVR_REDIS_PID="" AINVR_REDIS_DIR=""
	AINVR_REDIS_PID=$(ainvr_local_redis ensure "$url" "$dir") || exit 1
	if [ -n "$AINVR_REDIS_PID" ]; then AINVR_REDIS_DIR=$dir; fi
}

# ainvr_redis_stop DIR: stop the Redis that ainvr_redis started in DIR in this shell (SIGTERM, so
# it saves its dump; SIGKILL after 10 s). Does nothing for a Redis that was already running.
ainvr_redis_stop() {
	local dir=${1:?usage: ainvr_redis_stop DIR}
	case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
	[ -n "${AINVR_REDIS_PID:-}" ] && [ "$dir" = "${AINVR_REDIS_DIR:-}" ] || return 0
	local pid=$AINVR_REDIS_PID
	AINVR_REDIS_PID="" AINVR_REDIS_DIR=""
	ainvr_local_redis stop "$dir" "$pid" || true
}
