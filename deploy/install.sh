#!/usr/bin/env bash
# Installs awsgw as a system service: the binary, the models, the awsgw user, the config in
# /etc/awsgw (kept if there is one) and the systemd unit. As root, from the checkout:
#
#   make release && sudo deploy/install.sh
#   systemctl enable --now awsgw
#
# DESTDIR=DIR installs the files under DIR instead (a package's staging folder): no user is
# made and systemd is not told. AWSGW_BINARY names another binary than .build/release/awsgw.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${DESTDIR:-}
binary=${AWSGW_BINARY:-.build/release/awsgw}
[ -x "$binary" ] || { echo "install: $binary not found: run make release first" >&2; exit 1; }
[ -f models/partitions.json ] || { echo "install: no models/ in the checkout: run make setup first" >&2; exit 1; }

install -D -m 0755 "$binary" "$root/usr/local/bin/awsgw"
install -d "$root/usr/local/share/awsgw"
rm -rf "$root/usr/local/share/awsgw/models"
cp -R models "$root/usr/local/share/awsgw/models"

group=root
if [ -z "$root" ]; then
  getent passwd awsgw >/dev/null || useradd --system --home-dir /var/lib/awsgw --shell /usr/sbin/nologin awsgw
  group=awsgw
fi
install -d -m 0750 -g "$group" "$root/etc/awsgw"
if [ -e "$root/etc/awsgw/awsgw.yaml" ]; then
  echo "install: keeping the existing $root/etc/awsgw/awsgw.yaml"
else
  install -m 0640 -g "$group" deploy/awsgw.yaml "$root/etc/awsgw/awsgw.yaml"
fi
install -D -m 0644 deploy/awsgw.service "$root/etc/systemd/system/awsgw.service"

if [ -z "$root" ]; then
  AWSGW_MODELS=/usr/local/share/awsgw/models /usr/local/bin/awsgw config check /etc/awsgw/awsgw.yaml
  systemctl daemon-reload 2>/dev/null || echo "install: systemd is not running here; the unit is in /etc/systemd/system"
  echo "install: done; start it with: systemctl enable --now awsgw"
else
  echo "install: files under $root"
fi
