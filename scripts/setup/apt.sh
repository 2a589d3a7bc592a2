#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the terminal client need.
# Idempotent: when everything is present it only runs dpkg-query and locale -a.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libspdlog-dev libcxxopts-dev libgtest-dev libgmock-dev
  libedit-dev      # line editing for the terminal client (BSD licence; see docs/client.md)
  tmux             # the end-to-end test that drives the interactive client
  clang-format
  python3-venv
  libjwt-dev libjansson-dev  # signed tokens (JWT, HS256/RS256/ES256) that own a name (docs/security.md)
  openssl          # the TLS tests make throwaway certificates (test/support/make_test_certs.sh)
  clang libclang-rt-14-dev libfuzzer-14-dev  # -Wthread-safety, ASan+UBSan and the libFuzzer targets
  libsystemd-dev   # sd_notify: readiness, STOPPING and the watchdog under systemd (docs/deploy.md)
  systemd          # systemd-analyze verify, for the unit file's test
  libtomlplusplus-dev  # --config FILE in TOML (header-only; docs/operations.md)
  prometheus-cpp-dev   # --metrics-listen: Prometheus text on /metrics (docs/operations.md)
  locales          # en_US.UTF-8 and ja_JP.UTF-8 for the tmux tests of typing in each locale
)

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Locales the tmux tests type in (test/e2e/client_tmux_test.py; C and C.UTF-8
# come with glibc). Generated only when `locale -a` lacks them: locale-gen
# rebuilds every enabled locale and takes a while.
wanted_locales=(en_US.UTF-8 ja_JP.UTF-8)
normalise() { tr '[:upper:]' '[:lower:]' | sed 's/-//g'; }  # en_US.UTF-8 -> en_us.utf8, as locale -a says
have="$(locale -a 2>/dev/null | normalise)"
absent=()
for l in "${wanted_locales[@]}"; do
  grep -qxF "$(printf '%s' "$l" | normalise)" <<<"$have" || absent+=("$l")
done
if [ ${#absent[@]} -gt 0 ]; then
  echo "setup: generating locales ${absent[*]}" >&2
  for l in "${absent[@]}"; do
    pattern="${l//./\\.}"  # en_US\.UTF-8: the dot is literal
    if grep -qE "^[# ]*${pattern} UTF-8\b" /etc/locale.gen 2>/dev/null; then
      "${sudo_cmd[@]}" sed -i -E "s/^[# ]*(${pattern} UTF-8)\b/\1/" /etc/locale.gen
    else
      echo "$l UTF-8" | "${sudo_cmd[@]}" tee -a /etc/locale.gen >/dev/null
    fi
  done
  "${sudo_cmd[@]}" locale-gen
fi
