"""A real cloud image through the whole of kumo, the way a user would use it: a
Debian 12 image with cloud-init and openssh-server (tools/make-cloud-image,
built once and cached in $KUMO_CLOUD_IMAGE_DIR) is uploaded through kumo's
Glance API as a plain qcow2 (no kernel_id: the firmware boots it from its own
MBR), booted with a key pair, a config drive and #cloud-config user data on a
flavor made for it, and logged in to as `debian` over SSH at its fixed IP.
Then Debian's own `openstack server ssh` does the same, unmodified.

The network set-up is test_guest_access.py's (its fixtures are used as they
are): kumo-netd and libvirtd + virtlogd inside a network namespace the test
makes and deletes, the daemons on loopback, the machine's own network checked
unchanged afterwards. The API listens on 127.0.0.1 of the root namespace, so
`openstack` and `kumo` run there, with an `ssh` first on their PATH that runs
the real ssh inside the namespace.

Asserted: hostname = the server's sanitized name; the user data's write_files
and runcmd results; `cloud-init status` done; the root filesystem grown to the
flavor's disk; the guest's address is the fixed
IP kumo gave; passwordless sudo; `openstack server ssh --private` and
`kumo server ssh` reach it.
Root, TCG on a loaded 2-core machine: the image needs about 1-2 min to SSH.
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from test_guest_access import (BUILD, REPO, TOOLS, cloud, console, keypair,  # noqa: F401
                               libvirt_uri, netns, run)

MAKE_IMAGE = os.path.join(REPO, "tools", "make-cloud-image")
IMAGE_DIR = os.environ.get("KUMO_CLOUD_IMAGE_DIR", "/var/tmp/kumo-cloud-image")
IMAGE = os.path.join(IMAGE_DIR, "debian-12-kumo.qcow2")
OPENSTACK = "/usr/bin/openstack"
BOOT_TIMEOUT = 300
SSH_TIMEOUT = 420        # POST -> first SSH login; ~1-2 min, more under load
BUILD_TIMEOUT = 1800     # a cold image build: 53-111 s here, slower mirrors or more load

USER_DATA = b"""#cloud-config
write_files:
  - path: /var/tmp/kumo-write-files
    content: "written by cloud-init\\n"
runcmd:
  - [sh, -c, "echo runcmd-ran > /var/tmp/kumo-runcmd"]
"""

# tools/make-cloud-image installs its own packages (mmdebstrap, syslinux, ...)
MISSING = [t for t in TOOLS if shutil.which(t) is None]
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="network namespaces, libvirtd and the image build need root"),
    pytest.mark.skipif(bool(MISSING), reason="not installed: %s (tools/install-deps)"
                       % " ".join(MISSING)),
]


@pytest.fixture(scope="module")
def image():
    t0 = time.monotonic()
    r = subprocess.run([MAKE_IMAGE, IMAGE_DIR], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=BUILD_TIMEOUT)
    assert r.returncode == 0, "tools/make-cloud-image failed:\n" + r.stdout
    print("make-cloud-image: %.1f s" % (time.monotonic() - t0))
    return IMAGE


def ssh_argv(key):
    return ["-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]


def ssh(netns, key, addr, command, deadline, what):
    """ssh debian@addr inside the namespace; retried while sshd is not up yet."""
    while True:
        r = run("ip", "netns", "exec", netns, "ssh", *ssh_argv(key), "debian@" + addr,
                command, check=False, timeout=400)
        if r.returncode != 255:
            return r
        assert time.monotonic() < deadline, "ssh debian@%s: %s\nconsole:\n%s" % (
            addr, r.stderr, what())
        time.sleep(3)


@pytest.fixture(scope="module")
def server(cloud, netns, keypair, image):  # noqa: F811
    r = cloud.post("/v2.1/flavors", {"flavor": {"name": "cloud.small", "ram": 1024,
                                                "vcpus": 1, "disk": 3}})
    assert r.status == 200, r
    flavor = r.json["flavor"]["id"]
    # the upload as the README has it: kumo's CLI streams the file to the Glance API
    # and checks the image is active with the file's size
    t0 = time.monotonic()
    r = run(os.path.join(BUILD, "kumo"), "--url", cloud.url, "--token", "admin:admin",
            "-f", "json", "image", "create", "--file", image, "--disk-format", "qcow2",
            "debian-12-kumo", timeout=300)
    img = json.loads(r.stdout)
    assert (img["status"], img["disk_format"]) == ("active", "qcow2") and \
        "kernel_id" not in img, img
    iid = img["id"]
    t_up = time.monotonic() - t0
    ud = base64.b64encode(USER_DATA).decode()
    t0 = time.monotonic()
    sid = cloud.boot("Cloud Web 1", iid, flavor=flavor, key_name="ga", user_data=ud,
                     config_drive=True)
    s = cloud.wait_status(sid, "ACTIVE", timeout=BOOT_TIMEOUT)
    t_active = time.monotonic() - t0
    addr = s["addresses"]["flat"][0]["addr"]
    r = ssh(netns, keypair, addr, "hostname", t0 + SSH_TIMEOUT, lambda: console(cloud, sid))
    t_ssh = time.monotonic() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    print("upload %.1f s; POST -> ACTIVE %.1f s, -> SSH %.1f s" % (t_up, t_active, t_ssh))
    yield {"id": sid, "addr": addr, "t0": t0}
    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid, timeout=120)


def test_ssh_into_cloud_image(cloud, netns, keypair, server):  # noqa: F811
    sid, addr = server["id"], server["addr"]
    r = ssh(netns, keypair, addr,
            "timeout 300 cloud-init status --wait >/dev/null; cloud-init status; hostname; "
            "cat /var/tmp/kumo-write-files /var/tmp/kumo-runcmd; sudo -n id -un; "
            "df -B1M --output=size / | tail -n1; ip -4 -o addr show scope global", time.monotonic() + 60,
            lambda: console(cloud, sid))
    print("POST -> cloud-init done %.1f s" % (time.monotonic() - server["t0"]))
    out = r.stdout.splitlines()
    msg = "%s%s\nconsole:\n%s" % (r.stdout, r.stderr, console(cloud, sid))
    assert r.returncode == 0, msg
    assert out[:5] == ["status: done", "cloud-web-1", "written by cloud-init", "runcmd-ran",
                       "root"], msg
    # growpart + resizefs: the root filesystem fills the flavor's 3 GB disk
    assert int(out[5]) > 2800, msg
    assert ("inet %s/24" % addr) in r.stdout, msg


@pytest.fixture(scope="module")
def shim_env(netns):
    """An environment whose PATH starts with an `ssh` that runs the real one inside
    the namespace, where the guest's network is; no OS_* from the caller."""
    d = tempfile.mkdtemp(prefix="kumo-ci-shim-")
    shim = os.path.join(d, "ssh")
    with open(shim, "w") as f:
        f.write('#!/bin/sh\nexec ip netns exec %s /usr/bin/ssh "$@"\n' % netns)
    os.chmod(shim, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "KUMO_"))}
    env.update(PATH="%s:/usr/sbin:/usr/bin:/sbin:/bin" % d, HOME=d, PYTHONWARNINGS="ignore")
    yield env
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.skipif(not os.path.exists(OPENSTACK),
                    reason="needs python3-openstackclient (/usr/bin/openstack)")
def test_openstack_server_ssh(cloud, keypair, server, shim_env):  # noqa: F811
    # `server ssh` runs "ssh ADDR ARGS..." through os.system, one shell line: the
    # remote command is one word
    t0 = time.monotonic()
    r = subprocess.run(
        [OPENSTACK, "--os-auth-type", "admin_token", "--os-endpoint", cloud.url + "/v2.1",
         "--os-token", "admin:admin", "server", "ssh", "--private", server["id"], "--",
         "-l", "debian"] + ssh_argv(keypair) + ["hostname"],
        capture_output=True, text=True, timeout=180, env=shim_env)
    print("openstack server ssh: %.1f s" % (time.monotonic() - t0))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == ["cloud-web-1"], r.stdout + r.stderr


def test_kumo_server_ssh(cloud, keypair, server, shim_env):  # noqa: F811
    # kumo's CLI puts the address last (no remote command): the login shell reads
    # stdin, after the message of the day
    r = subprocess.run(
        [os.path.join(BUILD, "kumo"), "--url", cloud.url, "--token", "admin:admin",
         "server", "ssh", "--login", "debian", "--identity", keypair, "Cloud Web 1", "--",
         "-T"] + ssh_argv(keypair)[2:],
        input="echo; echo HOST $(hostname)\n", capture_output=True, text=True,
        timeout=120, env=shim_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[-1] == "HOST cloud-web-1", r.stdout + r.stderr
