"""A real VM through the whole stack: kumo-api, kumo-scheduler and a kumo-compute on
the libvirt driver, over the real broker and SQLite.

The test image (tools/make-test-image) is uploaded through the Glance API (kernel,
initrd and the qcow2 disk, the disk naming the other two as kernel_id/ramdisk_id),
a server is booted through REST, and its serial console, read through
os-getConsoleOutput, must show `KUMO-GUEST-UP <server id>` (the guest prints its
SMBIOS uuid, which the domain carries from the instance). Then: soft reboot (the
marker again), stop (SHUTOFF) and start (the marker again), delete. Afterwards no
domain, no instance directory (overlay, console log) and no qemu process is left.

Root, TCG on a loaded 2-core machine: every wait is bounded but generous.
"""
import os
import subprocess
import time

import pytest

import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "system"))
from kumocloud import Cloud, wait_for  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS_LIBVIRT = os.path.join(REPO, "tools", "libvirt")

BOOT_TIMEOUT = 300   # s: POST -> marker under TCG on a busy CI machine
STATE_TIMEOUT = 180  # s: an action's state change

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="qemu:///system needs root")


@pytest.fixture(scope="module")
def libvirt():
    was_up = subprocess.run([TOOLS_LIBVIRT, "status"], capture_output=True).returncode == 0
    subprocess.run([TOOLS_LIBVIRT, "start"], check=True, timeout=120)
    yield
    if not was_up:
        subprocess.run([TOOLS_LIBVIRT, "stop"], check=True, timeout=60)


@pytest.fixture(scope="module")
def image_files(test_image):
    return test_image


@pytest.fixture(scope="module")
def cloud(libvirt):
    # the guest's NIC is QEMU's user-mode one: this test's libvirtd is the
    # machine's, whose network a test must not change (the bridge path is
    # test_guest_access's, inside a namespace)
    c = Cloud(computes=0, driver="libvirt", parent_dir="/var/tmp",
              extra_conf={"libvirt": {"vif_type": "user"}}).start()
    c.start_compute("vmhost")
    c.wait_computes_up(1, timeout=60)
    yield c
    c.stop()



def console(cloud, sid):
    r = cloud.post("/v2.1/servers/%s/action" % sid, {"os-getConsoleOutput": {"length": -1}})
    assert r.status == 200, r
    return r.json["output"]


def wait_markers(cloud, sid, n):
    marker = "KUMO-GUEST-UP %s" % sid

    def seen():
        return console(cloud, sid).count(marker) >= n
    wait_for(seen, BOOT_TIMEOUT, interval=1, what="marker #%d of %s" % (n, sid))


def action(cloud, sid, body):
    r = cloud.post("/v2.1/servers/%s/action" % sid, body)
    assert r.status == 202, r


def qemu_pids(sid):
    out = subprocess.run(["pgrep", "-f", "qemu-system.*%s" % sid], capture_output=True,
                         text=True).stdout
    return out.split()


def test_real_vm_through_the_api(cloud, image_files):
    kernel = cloud.image_from_file("kumo-test-kernel", image_files["kernel"], "raw")
    initrd = cloud.image_from_file("kumo-test-initrd", image_files["initrd"], "raw")
    disk = cloud.image_from_file("kumo-test", image_files["disk"], "qcow2", kernel_id=kernel,
                  ramdisk_id=initrd, os_command_line=image_files["cmdline"])

    t0 = time.monotonic()
    sid = cloud.boot("real-vm", disk, flavor="1")
    s = cloud.wait_status(sid, "ACTIVE", timeout=STATE_TIMEOUT)
    assert s["OS-EXT-SRV-ATTR:host"] == "vmhost"
    assert s["OS-EXT-STS:power_state"] == 1
    wait_markers(cloud, sid, 1)
    print("POST -> marker: %.1f s" % (time.monotonic() - t0))
    domain = "kumo-%s" % sid
    assert domain in subprocess.run(["virsh", "-c", "qemu:///system", "list", "--name"],
                                    capture_output=True, text=True).stdout

    action(cloud, sid, {"reboot": {"type": "SOFT"}})
    cloud.wait_status(sid, "ACTIVE", timeout=STATE_TIMEOUT)
    wait_markers(cloud, sid, 2)

    action(cloud, sid, {"os-stop": None})
    s = cloud.wait_status(sid, "SHUTOFF", timeout=STATE_TIMEOUT)
    assert s["OS-EXT-STS:power_state"] == 4
    assert not qemu_pids(sid)
    action(cloud, sid, {"os-start": None})
    cloud.wait_status(sid, "ACTIVE", timeout=STATE_TIMEOUT)
    wait_markers(cloud, sid, 3)

    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid, timeout=STATE_TIMEOUT)
    assert domain not in subprocess.run(["virsh", "-c", "qemu:///system", "list", "--all",
                                         "--name"], capture_output=True, text=True).stdout
    assert not os.path.exists(os.path.join(cloud.state_dir("vmhost"), "instances", sid))
    wait_for(lambda: not qemu_pids(sid), 30, what="no qemu process for %s" % sid)
    # the image cache keeps the base images for the next boot
    base = os.path.join(cloud.state_dir("vmhost"), "_base")
    sha = cloud.get("/v2/images/%s" % disk).json["os_hash_value"]
    assert os.path.exists(os.path.join(base, sha))
