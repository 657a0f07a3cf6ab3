"""Guests people can log in to, through the whole of kumo: a key pair, user data
and a config drive given to POST /v2.1/servers, a fixed IP on the flat network
(kumo-scheduler gives it, kumo-netd serves it as a static lease on the compute's
bridge), and SSH into the guest with the key pair's private key.

Everything that touches a network runs inside a network namespace the test makes
and deletes: kumo-netd (which makes the bridge kumotbr2 with 10.78.0.1/24, its
dnsmasq and its nftables table there) and libvirtd + virtlogd
(`tools/libvirt start --netns`), hence the guests' TAPs. kumo-api, kumo-scheduler
and kumo-compute run as in the other tests (loopback, the test broker); the
compute reaches libvirtd and kumo-netd through their unix sockets. The machine's
own network never changes: checked before and after.

Asserted: SSH into each guest's fixed IP with the key works; hostname and the
user_data marker are there; two guests reach each other; from inside a guest,
the bridge address's other ports (a listener on 5672, 8774 and 22 in the
namespace) are unreachable while DNS on it answers; delete frees the address and
its lease (the next server gets it again).

Root, TCG on a loaded 2-core machine: waits are bounded but generous.
"""
import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "system"))
from kumocloud import Cloud, wait_for  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS_LIBVIRT = os.path.join(REPO, "tools", "libvirt")
BUILD = os.environ.get("KUMO_BUILD", os.path.join(REPO, "build"))

BRIDGE = "kumotbr2"
CIDR = "10.78.0.0/24"
GATEWAY = "10.78.0.1"
BOOT_TIMEOUT = 300
SSH_TIMEOUT = 120

TOOLS = ("libvirtd", "virtlogd", "virsh", "qemu-system-x86_64", "qemu-img", "ssh",
         "ssh-keygen", "ip", "nft", "dnsmasq")
MISSING = [t for t in TOOLS if shutil.which(t) is None]
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces and libvirtd need root"),
    pytest.mark.skipif(bool(MISSING), reason="not installed: %s (tools/install-deps)"
                       % " ".join(MISSING)),
]


def run(*args, check=True, timeout=60, **kw):
    r = subprocess.run(args, capture_output=True, text=True, errors="replace",
                       timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, "%s: %d\n%s%s" % (" ".join(args), r.returncode,
                                                     r.stdout, r.stderr)
    return r


def root_net():
    links = set(re.findall(r"^\d+: ([^:@]+)", run("ip", "-o", "link", "show").stdout, re.M))
    return links, run("ip", "-o", "addr", "show").stdout, run("ip", "route").stdout


@pytest.fixture(scope="module")
def netns():
    before = root_net()
    name = "kumo-ga-%s" % secrets.token_hex(4)
    run("ip", "netns", "add", name)
    try:
        run("ip", "-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        run("ip", "netns", "del", name, check=False)
    after = root_net()
    assert after[0] == before[0], "links changed in the root netns: %s" % (after[0] ^ before[0])
    for text in after[1:]:
        assert BRIDGE not in text and "10.78.0." not in text, text


@pytest.fixture(scope="module")
def libvirt_uri(netns):
    try:
        r = run(TOOLS_LIBVIRT, "start", "--netns", netns, timeout=180)
        yield r.stdout.strip().splitlines()[-1]
    finally:
        run(TOOLS_LIBVIRT, "stop", "--netns", netns, check=False, timeout=120)


@pytest.fixture(scope="module")
def image_files(test_image):
    return test_image


@pytest.fixture(scope="module")
def cloud(netns, libvirt_uri):
    # TCG: the namespace's libvirtd may have /dev/kvm hidden (tools/libvirt)
    extra = {"libvirt": {"connection_uri": libvirt_uri, "vif_type": "bridge",
                         "virt_type": "qemu"},
             "network": {"name": "flat", "cidr": CIDR, "bridge": BRIDGE}}
    c = Cloud(computes=0, driver="libvirt", parent_dir="/var/tmp", extra_conf=extra)
    sock = os.path.join(c.dir, "netd", "netd.sock")
    c.extra_conf["network"]["helper_socket"] = sock
    c.extra_conf["network"]["helper_user"] = "root"
    c.start()
    try:
        c.start_netd(netns)
        c.start_compute("vmhost")
        c.wait_computes_up(1, timeout=60)
        yield c
    finally:
        c.stop()    # kumo-netd too: exit status 0 on SIGTERM, no sanitizer report


def netd_status(cloud):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(cloud.extra_conf["network"]["helper_socket"])
    s.send(json.dumps({"op": "status"}).encode())
    r = json.loads(s.recv(65536))
    s.close()
    return r



def console(cloud, sid):
    r = cloud.post("/v2.1/servers/%s/action" % sid, {"os-getConsoleOutput": {"length": -1}})
    return r.json["output"] if r.status == 200 else ""


class Server:
    def __init__(self, cloud, netns, key, sid):
        self.cloud, self.netns, self.key, self.id = cloud, netns, key, sid
        s = cloud.wait_status(sid, "ACTIVE", timeout=BOOT_TIMEOUT)
        self.addr = s["addresses"]["flat"][0]["addr"]
        self.mac = s["addresses"]["flat"][0]["OS-EXT-IPS-MAC:mac_addr"]
        wait_for(lambda: ("KUMO-GUEST-UP %s" % sid) in console(cloud, sid), BOOT_TIMEOUT,
                 interval=1, what="the marker of %s" % sid)

    def ssh(self, command):
        deadline = time.monotonic() + SSH_TIMEOUT
        while True:
            r = run("ip", "netns", "exec", self.netns, "ssh", "-i", self.key,
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
                    "root@" + self.addr, command, check=False, timeout=120)
            if r.returncode != 255:
                return r
            assert time.monotonic() < deadline, "ssh root@%s: %s\nconsole:\n%s" % (
                self.addr, r.stderr, console(self.cloud, self.id))
            time.sleep(1)


@pytest.fixture(scope="module")
def keypair(cloud):
    d = tempfile.mkdtemp(prefix="kumo-ga-key-")
    key = os.path.join(d, "key")
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kumo-ga", "-f", key)
    with open(key + ".pub") as f:
        pub = f.read().strip()
    r = cloud.post("/v2.1/os-keypairs", {"keypair": {"name": "ga", "public_key": pub}})
    assert r.status in (200, 201), r
    yield key
    shutil.rmtree(d, ignore_errors=True)


def listeners(netns, ports):
    """TCP listeners on the bridge's address inside the namespace (the host's
    services as a guest would see them); the process, to be killed."""
    code = ("import socket,sys,time\nss=[]\nfor p in sys.argv[1:]:\n"
            " s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
            " s.bind(('%s',int(p))); s.listen(8); ss.append(s)\nprint('up',flush=True)\n"
            "time.sleep(600)\n" % GATEWAY)
    p = subprocess.Popen(["ip", "netns", "exec", netns, "/usr/bin/python3", "-c", code]
                         + [str(x) for x in ports], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "up"
    return p


def test_ssh_into_guests_on_the_bridge(cloud, netns, keypair, image_files):
    kernel = cloud.image_from_file("k", image_files["kernel"], "raw")
    initrd = cloud.image_from_file("i", image_files["initrd"], "raw")
    disk = cloud.image_from_file("kumo-test", image_files["disk"], "qcow2", kernel_id=kernel,
                  ramdisk_id=initrd, os_command_line=image_files["cmdline"])
    ud = base64.b64encode(b"#!/bin/sh\necho user-data-ran > /tmp/ud-ok\n").decode()
    t0 = time.monotonic()
    sid1 = cloud.boot("Web One", disk, key_name="ga", user_data=ud, config_drive=True)
    vm1 = Server(cloud, netns, keypair, sid1)
    t_up = time.monotonic() - t0
    r = vm1.ssh("hostname; cat /tmp/ud-ok; ip -4 addr")
    print("POST -> marker %.1f s, -> SSH %.1f s" % (t_up, time.monotonic() - t0))
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "web-one" and out[1] == "user-data-ran", r.stdout
    assert "inet %s/24" % vm1.addr in r.stdout, r.stdout
    st = netd_status(cloud)
    assert st["ok"] and st["managed"] and st["leases"] == 1, st

    # the bridge's own address answers DNS and nothing else
    lis = listeners(netns, [5672, 8774, 2222])
    try:
        probe = ("for p in 5672 8774 2222 22; do if nc -w 3 %s $p </dev/null; then "
                 "echo open $p; else echo closed $p; fi; done; "
                 "if nc -w 3 %s 53 </dev/null; then echo open 53; fi" % (GATEWAY, GATEWAY))
        r = vm1.ssh(probe)
    finally:
        lis.kill()
    for p in (5672, 8774, 2222, 22):
        assert "closed %d" % p in r.stdout, r.stdout + r.stderr
    assert "open 53" in r.stdout, "DNS on the bridge did not answer:\n" + r.stdout + r.stderr

    # a second guest reaches the first
    sid2 = cloud.boot("web-two", disk, key_name="ga", config_drive=True)
    vm2 = Server(cloud, netns, keypair, sid2)
    assert vm2.addr != vm1.addr
    r = vm2.ssh("hostname; ping -c 2 -W 5 %s && nc -w 3 %s 22 </dev/null && echo ssh-port-open"
                % (vm1.addr, vm1.addr))
    assert r.returncode == 0 and "ssh-port-open" in r.stdout, r.stdout + r.stderr
    assert netd_status(cloud)["leases"] == 2

    # delete frees the address and the lease: the next server gets it
    assert cloud.delete("/v2.1/servers/%s" % sid1).status == 204
    cloud.wait_gone(sid1, timeout=120)
    wait_for(lambda: netd_status(cloud)["leases"] == 1, 30, what="vm1's lease gone")
    sid3 = cloud.boot("web-three", disk, key_name="ga", config_drive=True)
    s3 = cloud.wait_status(sid3, "ACTIVE", timeout=BOOT_TIMEOUT)
    assert s3["addresses"]["flat"][0]["addr"] == vm1.addr
    assert s3["addresses"]["flat"][0]["OS-EXT-IPS-MAC:mac_addr"] != vm1.mac
    for sid in (sid2, sid3):
        cloud.delete("/v2.1/servers/%s" % sid)
    for sid in (sid2, sid3):
        cloud.wait_gone(sid, timeout=120)
    wait_for(lambda: netd_status(cloud)["leases"] == 0, 30, what="no lease left")
