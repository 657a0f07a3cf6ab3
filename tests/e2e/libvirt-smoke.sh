#!/bin/bash
# tests/e2e/libvirt-smoke.sh IMAGEDIR  -- manual check, not part of CI.
#
# Boots the test image (tools/make-test-image IMAGEDIR) through libvirt, the way the
# compute driver will: a transient <domain type='qemu'> with the instance UUID in
# <uuid>, a qcow2 overlay as vda, a user-mode virtio NIC (the guest never brings it
# up), serial console to a file. For each form (direct vmlinux, direct vmlinuz, BIOS
# boot of the qcow2) it checks:
#   virsh create            -> `KUMO-GUEST-UP <uuid>` on the serial console
#   virsh reboot            -> (ACPI power-off + reset) the marker a second time
#   virsh shutdown          -> the guest powers off; the transient domain disappears
#
# It never touches a libvirtd that may be running on the host: it runs its own
# libvirtd + virtlogd inside a private mount namespace (unshare -m) with tmpfs over
# /run, /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt, and stops them by
# pid at the end. Needs root and libvirt-daemon-system + libvirt-clients +
# qemu-system-x86 (the package creates the libvirt-qemu user). Takes ~1-2 min.
set -euo pipefail

if [ "${1:-}" != --in-namespace ]; then
	[ $# -eq 1 ] || { echo "usage: $0 IMAGEDIR" >&2; exit 2; }
	[ "$(id -u)" = 0 ] || { echo "$0: needs root" >&2; exit 2; }
	command -v libvirtd >/dev/null || { echo "$0: install libvirt-daemon-system" >&2; exit 2; }
	exec unshare -m --propagation private "$0" --in-namespace "$(cd "$1" && pwd)"
fi
IMG=$2
# qemu runs as libvirt-qemu: the work dir and its parents must be traversable
W=$(mktemp -d /var/tmp/kumo-libvirt-smoke.XXXXXX)
chmod 755 "$W"
for m in /run /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
	mount -t tmpfs tmpfs "$m"
done
mkdir -p /var/log/libvirt/qemu /run/libvirt
cleanup() {
	for n in $(virsh -q list --name 2>/dev/null); do virsh -q destroy "$n" >/dev/null 2>&1 || true; done
	for p in /run/libvirtd.pid /run/virtlogd.pid; do
		if [ -f "$p" ]; then kill "$(cat "$p")" 2>/dev/null || true; fi
	done
	sleep 1
	rm -rf "$W"
}
trap cleanup EXIT
# copies: libvirt's dynamic_ownership chowns the backing file to libvirt-qemu
cp "$IMG"/kumo-test.{vmlinuz,initrd,qcow2,cmdline} "$W/"
[ -f "$IMG/kumo-test.vmlinux" ] && cp "$IMG/kumo-test.vmlinux" "$W/"

virtlogd -d
libvirtd -d
until virsh version >/dev/null 2>&1; do sleep 0.2; done

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
domain_xml() { # name uuid form
	local boot=''
	if [ "$3" != disk ]; then
		boot="<kernel>$W/kumo-test.$3</kernel><initrd>$W/kumo-test.initrd</initrd>
    <cmdline>$(cat "$W/kumo-test.cmdline")</cmdline>"
	fi
	cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    $boot
    <boot dev='hd'/>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$W/$1.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/><rom enabled='no'/></interface>
    <serial type='file'><source path='$W/$1.serial' append='off'/><target port='0'/></serial>
    <controller type='usb' model='none'/>
    <memballoon model='virtio'/>
  </devices>
</domain>
EOF
}
markers() { local c; c=$(grep -c "KUMO-GUEST-UP $2" "$1" 2>/dev/null || true); echo "${c:-0}"; }
wait_markers() { # serial uuid count
	for _ in $(seq 1200); do
		[ "$(markers "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

fails=0
for form in vmlinux vmlinuz disk; do
	[ "$form" = vmlinux ] && [ ! -f "$W/kumo-test.vmlinux" ] && continue
	n=kumo-smoke-$form
	u=$(cat /proc/sys/kernel/random/uuid)
	qemu-img create -q -f qcow2 -b "$W/kumo-test.qcow2" -F qcow2 "$W/$n.qcow2"
	domain_xml "$n" "$u" "$form" >"$W/$n.xml"
	t=$(now)
	ok=1
	if ! virsh -q create "$W/$n.xml" >/dev/null; then
		ok=0
	elif wait_markers "$W/$n.serial" "$u" 1; then
		echo "$form: marker after $(since "$t") s"
		t=$(now)
		virsh -q reboot "$n" >/dev/null
		if wait_markers "$W/$n.serial" "$u" 2; then
			echo "$form: marker again $(since "$t") s after virsh reboot"
		else
			echo "$form: FAIL no marker after virsh reboot"; ok=0
		fi
		t=$(now)
		virsh -q shutdown "$n" >/dev/null
		for _ in $(seq 300); do virsh -q domstate "$n" >/dev/null 2>&1 || break; sleep 0.1; done
		if virsh -q domstate "$n" >/dev/null 2>&1; then
			echo "$form: FAIL still running 30 s after virsh shutdown"; ok=0
		else
			echo "$form: gone $(since "$t") s after virsh shutdown"
		fi
	else
		echo "$form: FAIL no marker"; ok=0
	fi
	if [ "$ok" = 0 ]; then
		fails=$((fails + 1))
		echo "--- serial:"; cat "$W/$n.serial" 2>/dev/null || true
		echo "--- qemu log:"; tail -20 "/var/log/libvirt/qemu/$n.log" 2>/dev/null || true
		virsh -q destroy "$n" >/dev/null 2>&1 || true
	fi
done
if [ "$fails" = 0 ]; then echo "libvirt-smoke: PASS"; else echo "libvirt-smoke: FAIL ($fails)"; exit 1; fi
