"""End-to-end test of the test guest on a bridge: config drive in, SSH out.

Everything runs inside a network namespace the test makes (and deletes, also on
failure): a bridge kumotbr0 with 10.77.0.1/24, libvirtd + virtlogd started in it by
`tools/libvirt start --netns NAME` (their own sockets, state and domain definitions;
a root-netns libvirtd may run beside them), the guests' TAPs and all their traffic.
The machine's own network is never touched: the test checks that the root netns has
no new link, and no kumotbr0 or 10.77.0.0/24 address or route, while the guests run
and again after the cleanup.

Each guest is the image tools/make-test-image builds (direct kernel boot, domain
type 'qemu', so TCG works), with a virtio NIC on kumotbr0 and a config drive made by
genisoimage the way Nova's is (label config-2, IDE cdrom hda) holding
openstack/latest/meta_data.json (compact one-line JSON like kumo's jansson writes:
uuid, hostname, public_keys with a fresh ed25519 key), user_data (a #! script) and
network_data.json (a static ipv4 address on the NIC's MAC, gateway 10.77.0.1):

  * vm1 (10.77.0.11): KUMO-GUEST-UP <uuid> on the console (which now means "SSH
    listens"), then `ssh root@10.77.0.11` from inside the netns shows the hostname
    from meta_data, the file user_data wrote, the address and the default route;
  * vm2 (10.77.0.12, booted after vm1 is up: one boot at a time; its documents are
    laid out as compute/configdrive.c's json_dumps(JSON_ENSURE_ASCII) writes them,
    with ", " and ": ", and "/" escaped as "\\/"): pings vm1 and the bridge.

Run (root):  KUMO_BUILD=build /usr/bin/python3 -m pytest -v tests/e2e/test_guest_net.py
Needs (Debian 12): libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
qemu-system-x86 genisoimage openssh-client iproute2, plus what tools/make-test-image
lists (tools/install-deps). KUMO_TEST_IMAGE_DIR reuses a built image.
"""
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS_LIBVIRT = os.path.join(REPO, "tools", "libvirt")

BRIDGE = "kumotbr0"
GATEWAY = "10.77.0.1"
PREFIX = 24
MARKER_TIMEOUT = 240.0   # s from start to the marker (TCG, loaded 2-core CI box)
SSH_TIMEOUT = 90.0       # s of retries after the marker (dropbear makes its host key)

TOOLS = ("libvirtd", "virtlogd", "virsh", "qemu-system-x86_64", "qemu-img",
         "genisoimage", "ssh", "ssh-keygen", "ip")
MISSING = [t for t in TOOLS if shutil.which(t) is None]

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces and libvirtd need root"),
    pytest.mark.skipif(bool(MISSING), reason=f"not installed: {' '.join(MISSING)} "
                       "(tools/install-deps)"),
]


def run(*args, check=True, timeout=60, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, f"{' '.join(args)}: {r.returncode}\n{r.stdout}{r.stderr}"
    return r


def root_links():
    return set(re.findall(r"^\d+: ([^:@]+)", run("ip", "-o", "link", "show").stdout, re.M))


def assert_root_netns_untouched(links_before):
    new = root_links() - links_before
    assert not new, f"new links in the root netns: {sorted(new)}"
    addrs = run("ip", "-o", "addr", "show").stdout
    routes = run("ip", "route", "show").stdout
    for text in (addrs, routes):
        assert BRIDGE not in text and "10.77.0." not in text, \
            f"the test's network leaked into the root netns:\n{text}"


@pytest.fixture(scope="module")
def image_dir(test_image):
    return test_image["dir"]


@pytest.fixture(scope="module")
def netns():
    """A fresh network namespace with the bridge; deleted at teardown."""
    links_before = root_links()
    name = f"kumo-gn-{secrets.token_hex(4)}"
    run("ip", "netns", "add", name)
    try:
        run("ip", "-n", name, "link", "set", "lo", "up")
        run("ip", "-n", name, "link", "add", BRIDGE, "type", "bridge",
            "stp_state", "0", "forward_delay", "0")
        run("ip", "-n", name, "addr", "add", f"{GATEWAY}/{PREFIX}", "dev", BRIDGE)
        run("ip", "-n", name, "link", "set", BRIDGE, "up")
        yield name, links_before
    finally:
        run("ip", "netns", "del", name, check=False)
    assert name not in run("ip", "netns", "list").stdout
    assert_root_netns_untouched(links_before)


@pytest.fixture(scope="module")
def libvirt_uri(netns):
    """libvirtd + virtlogd inside the netns; stopped (with their guests) at teardown."""
    name, _ = netns
    t0 = time.monotonic()
    try:
        r = run(TOOLS_LIBVIRT, "start", "--netns", name, timeout=180)
        uri = r.stdout.strip().splitlines()[-1]
        print(f"libvirtd in netns {name} after {time.monotonic() - t0:.1f} s: {uri}")
        yield uri
    finally:
        run(TOOLS_LIBVIRT, "stop", "--netns", name, check=False, timeout=120)
    assert not os.path.exists(f"/run/kumo-libvirt-{name}"), "tools/libvirt stop left its run dir"


@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="kumo-gn-", dir="/var/tmp")
    os.chmod(d, 0o755)   # libvirt-qemu opens the config drive in here
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kumo-e2e@test",
        "-f", os.path.join(d, "key"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Guest:
    """One domain on the bridge with a config drive, defined through the netns libvirtd."""

    def __init__(self, uri, netns, work, name, ip, mac, image_dir, spaced=False):
        self.uri, self.netns, self.name, self.ip, self.mac = uri, netns, name, ip, mac
        self.uuid = str(uuid.uuid4())
        self.dom = f"kumo-gn-{self.uuid}"
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.key = os.path.join(work, "key")
        self.console = os.path.join(self.dir, "console.log")
        self.drive = os.path.join(self.dir, "disk.config")
        self.make_drive(spaced)
        self.xml = os.path.join(self.dir, "domain.xml")
        with open(self.xml, "w") as f:
            f.write(self.domain_xml(image_dir))

    def make_drive(self, spaced):
        """Compact one-line JSON, or (spaced) with separators ", " and ": " and every
        "/" escaped, the network's DNS nested in it, an mtu of null."""
        with open(self.key + ".pub") as f:
            pub = f.read().strip()
        meta = {"uuid": self.uuid, "name": self.name, "hostname": f"{self.name}.novalocal",
                "public_keys": {"kumo-e2e": pub}, "launch_index": 0,
                "availability_zone": "nova", "devices": []}
        net = {
            "links": [{"id": f"tap-{self.name}", "vif_id": str(uuid.uuid4()), "type": "bridge",
                       "ethernet_mac_address": self.mac, "mtu": None if spaced else 1500}],
            "networks": [{"id": "network0", "type": "ipv4", "link": f"tap-{self.name}",
                          "ip_address": self.ip, "netmask": "255.255.255.0",
                          "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0",
                                      "gateway": GATEWAY}],
                          "network_id": str(uuid.uuid4()),
                          "services": [{"type": "dns", "address": GATEWAY}]}],
            "services": [{"type": "dns", "address": GATEWAY}],
        }
        tree = os.path.join(self.dir, "tree")
        latest = os.path.join(tree, "openstack", "latest")
        os.makedirs(latest)
        for doc, fname in ((meta, "meta_data.json"), (net, "network_data.json")):
            if spaced:
                text = json.dumps(doc).replace("/", "\\/")
            else:
                text = json.dumps(doc, separators=(",", ":"))
            with open(os.path.join(latest, fname), "w") as f:
                f.write(text)
        with open(os.path.join(latest, "user_data"), "w") as f:
            f.write("#!/bin/sh\necho marker > /tmp/ud-ok\n")
        run("genisoimage", "-o", self.drive, "-ldots", "-allow-lowercase", "-allow-multidot",
            "-l", "-quiet", "-J", "-r", "-V", "config-2", tree)

    def domain_xml(self, image_dir):
        kernel = os.path.join(image_dir, "kumo-test.vmlinux")
        if not os.path.exists(kernel):
            kernel = os.path.join(image_dir, "kumo-test.vmlinuz")
        with open(os.path.join(image_dir, "kumo-test.cmdline")) as f:
            cmdline = f.read().strip()
        initrd = os.path.join(image_dir, "kumo-test.initrd")
        return f"""<domain type='qemu'>
  <name>{self.dom}</name>
  <uuid>{self.uuid}</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <sysinfo type='smbios'><system><entry name='uuid'>{self.uuid}</entry></system></sysinfo>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
    <smbios mode='sysinfo'/>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='{self.drive}'/>
      <target dev='hda' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='bridge'>
      <source bridge='{BRIDGE}'/>
      <mac address='{self.mac}'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
    <serial type='pty'>
      <log file='{self.console}' append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"""

    def virsh(self, *args, check=True):
        return run("virsh", "-q", "-c", self.uri, *args, check=check, timeout=120)

    def start(self):
        self.virsh("define", self.xml)
        self.t0 = time.monotonic()
        self.virsh("start", self.dom)

    def log(self):
        try:
            with open(self.console, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_marker(self):
        deadline = self.t0 + MARKER_TIMEOUT
        while f"KUMO-GUEST-UP {self.uuid}" not in self.log():
            assert time.monotonic() < deadline, \
                f"{self.name}: no KUMO-GUEST-UP within {MARKER_TIMEOUT} s:\n{self.log()}"
            time.sleep(0.2)
        return time.monotonic() - self.t0

    def ssh(self, command, timeout=SSH_TIMEOUT):
        """Runs command as root on the guest from inside the netns, retrying until
        the SSH login works (dropbear makes its host key on the first connection)."""
        deadline = time.monotonic() + timeout
        while True:
            r = run("ip", "netns", "exec", self.netns, "ssh", "-i", self.key,
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
                    f"root@{self.ip}", command, check=False, timeout=120)
            if r.returncode != 255:   # 255: ssh itself failed (connect, auth)
                return r
            assert time.monotonic() < deadline, \
                f"ssh root@{self.ip}: {r.stderr}\nconsole:\n{self.log()}"
            time.sleep(1)

    def destroy(self):
        self.virsh("destroy", self.dom, check=False)
        self.virsh("undefine", self.dom, check=False)


@pytest.fixture
def guests(libvirt_uri, netns, work, image_dir):
    made = []

    def make(name, ip, mac, **kw):
        g = Guest(libvirt_uri, netns[0], work, name, ip, mac, image_dir, **kw)
        made.append(g)
        return g
    yield make
    for g in made:
        g.destroy()


def test_config_drive_ssh_on_bridge(guests, netns):
    name, links_before = netns
    t0 = time.monotonic()
    vm1 = guests("vm1", "10.77.0.11", "fa:16:3e:00:00:11")
    vm1.start()
    print(f"vm1: drive + define + start {time.monotonic() - t0:.1f} s")
    t_marker = vm1.wait_marker()
    t_ssh0 = time.monotonic()
    r = vm1.ssh("hostname; cat /tmp/ud-ok; ip -4 addr; ip route")
    t_ssh = time.monotonic() - vm1.t0
    assert r.returncode == 0, f"{r.stdout}{r.stderr}"
    lines = r.stdout.splitlines()
    assert lines[0] == "vm1", r.stdout
    assert lines[1] == "marker", r.stdout
    assert f"inet 10.77.0.11/{PREFIX}" in r.stdout, r.stdout
    assert f"default via {GATEWAY}" in r.stdout, r.stdout
    assert "kumo-guest: config drive /dev/sr0" in vm1.log()
    print(f"vm1: marker {t_marker:.1f} s after start, SSH answered {t_ssh:.1f} s after "
          f"start ({time.monotonic() - t_ssh0:.1f} s after the marker)")

    # one boot at a time: vm2 starts once vm1 is up
    vm2 = guests("vm2", "10.77.0.12", "fa:16:3e:00:00:12", spaced=True)
    t0 = time.monotonic()
    vm2.start()
    t_start2 = time.monotonic() - t0
    t_marker2 = vm2.wait_marker()
    t0 = time.monotonic()
    r = vm2.ssh(f"hostname; ping -c 2 -W 5 {vm1.ip} && ping -c 1 -W 5 {GATEWAY}")
    assert r.returncode == 0, f"vm2 cannot reach vm1 or the bridge:\n{r.stdout}{r.stderr}"
    assert r.stdout.splitlines()[0] == "vm2", r.stdout
    print(f"vm2: define+start {t_start2:.1f} s, marker {t_marker2:.1f} s after start; "
          f"ssh + ping vm1 and the bridge {time.monotonic() - t0:.1f} s")

    # the guests' TAPs and the bridge live in the netns only
    taps = run("ip", "-n", name, "-o", "link", "show", "master", BRIDGE).stdout
    assert taps.count("\n") == 2, f"expected two TAPs on {BRIDGE}:\n{taps}"
    assert_root_netns_untouched(links_before)
