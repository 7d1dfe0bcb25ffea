# Shared helpers of the benchmark scripts (sourced, not run).

# Installs a Debian package when a command is missing.
need_apt() { # command package
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing $2" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

# Runs a command N times; prints "median_seconds peak_rss_kb" (median of wall times, max RSS).
measure() { # runs cmd...
  local runs=$1; shift
  local out; out=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$out.t" "$@" >/dev/null 2>"$out.err" || true
    cat "$out.t" >> "$out"
  done
  python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip() and l.split()[0][0].isdigit()]
t = statistics.median(float(r[0]) for r in rows)
m = max(int(r[1]) for r in rows)
print(f"{t:.3f} {m}")
PY
  rm -f "$out" "$out.t" "$out.err"
}

machine() {
  echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
}
