#!/usr/bin/env bash
# install_missing_packages TAG PACKAGE...: installs those of the Debian packages not yet
# installed (as root), quiet when none is missing. Sourced by setup.sh and sanitize.sh.
install_missing_packages() {
  local tag=$1
  shift
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "$tag: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
