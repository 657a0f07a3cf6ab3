"""The README's first command: tools/all-in-one on this machine, in its background
mode (the daemons as supervised processes; the mode where PID 1 is not systemd,
forced so that a systemd host is not installed into: tests/systemd/test_all_in_one
covers the systemd mode) boots a real VM and prints its console marker; `--down`
deletes its servers and leaves nothing of its own running (daemons, domains, and
libvirt when the script was the one to start it)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AIO = os.path.join(REPO, "tools", "all-in-one")
sys.path.insert(0, os.path.join(REPO, "tests", "system"))
from kumocloud import free_port  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="installs packages, runs libvirt")


def domains():
    r = subprocess.run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"],
                       capture_output=True, text=True)
    return [d for d in r.stdout.split() if d.startswith("kumo-")] if r.returncode == 0 else []


def test_all_in_one_boots_a_vm_and_down_cleans_up():
    d = tempfile.mkdtemp(prefix="kumo-aio-", dir="/var/tmp")
    env = dict(os.environ, KUMO_AIO_DIR=d, KUMO_AIO_PORT=str(free_port()),
               KUMO_AIO_MODE="background")
    env.setdefault("KUMO_TEST_IMAGE_DIR", "/var/tmp/kumo-test-image")
    libvirt_was_up = subprocess.run([os.path.join(REPO, "tools", "libvirt"), "status"],
                                    capture_output=True).returncode == 0
    try:
        r = subprocess.run([AIO], env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        m = re.search(r"^server \S+: ([0-9a-f-]{36})$", r.stdout, re.M)
        assert m, r.stdout[-2000:]
        assert "KUMO-GUEST-UP %s" % m.group(1) in r.stdout
        pids = [int(open(os.path.join(d, f)).read()) for f in os.listdir(d)
                if f.endswith(".pid")]
        assert len(pids) == 3
        assert "kumo-%s" % m.group(1) in domains()
    finally:
        down = subprocess.run([AIO, "--down"], env=env, capture_output=True, text=True,
                              timeout=300)
    assert down.returncode == 0, down.stdout + down.stderr
    for pid in pids:
        assert not os.path.exists("/proc/%d" % pid) or \
            "zombie" in open("/proc/%d/status" % pid).read().lower()
    assert not [f for f in os.listdir(d) if f.endswith(".pid")]
    if libvirt_was_up:
        assert not domains()
    else:
        assert subprocess.run([os.path.join(REPO, "tools", "libvirt"), "status"],
                              capture_output=True).returncode != 0
    shutil.rmtree(d, ignore_errors=True)
