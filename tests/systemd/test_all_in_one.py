"""tools/all-in-one where PID 1 is systemd: inside a systemd-nspawn container booted
from the all-in-one rootfs (KUMO_SD_AIO=1 tools/systemd-test rootfs: the base rootfs plus
`tools/install-deps --list --run`, so nothing is downloaded; --private-network).

The checkout (with its build/) and the cached test image are copied in; the all-in-one
then runs as a user would: `make install`, kumo-manage as the kumo user, `systemctl start`
of the Debian packages' rabbitmq-server, virtlogd and libvirtd, kumo.target enabled and
started, a real VM (QEMU TCG) booted through the API, the guest's marker printed. A second
run boots one more server (idempotent). `--down` deletes the servers and leaves the
container as it found it: the same active units, users, groups and files.

Run: tools/systemd-test (root). KUMO_TEST_IMAGE_DIR: where tools/make-test-image builds
the test image to copy in (default /var/tmp/kumo-test-image, as tests/e2e).
"""
import glob
import os
import re
import shutil
import subprocess

import pytest

from test_units import BUILD, ROOT, TOOL, Container

IMAGE_DIR = os.environ.get("KUMO_TEST_IMAGE_DIR", "/var/tmp/kumo-test-image")
KERNEL_DEBS = "/var/cache/kumo/debs"
SRC = "/opt/kumo"              # the checkout, inside the container
CT_IMAGE_DIR = "/var/tmp/kumo-test-image"
AIO_ENV = dict(os.environ, KUMO_SD_AIO="1", KUMO_BUILD=BUILD)


def copy_tree(ct_root, src, dst, excludes=()):
    """tar, so that mtimes survive (make finds build/ up to date)."""
    os.makedirs(ct_root + dst, exist_ok=True)
    argv = ["tar", "-C", src, "-cf", "-"] + ["--exclude=" + e for e in excludes] + ["."]
    tar = subprocess.Popen(argv, stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", ct_root + dst, "-xf", "-"], stdin=tar.stdout, check=True)
    tar.stdout.close()
    assert tar.wait() == 0


@pytest.fixture(scope="module")
def aio():
    if os.geteuid() != 0:
        pytest.skip("needs root (systemd-nspawn, nsenter)")
    if shutil.which("systemd-nspawn") is None:
        pytest.skip("no systemd-nspawn (Debian: systemd-container)")
    # Built here (cached: a second run does nothing), as tests/e2e does.
    subprocess.run([os.path.join(ROOT, "tools", "make-test-image"), IMAGE_DIR], check=True,
                   env=dict(os.environ, KUMO_CACHE_DIR=os.path.dirname(KERNEL_DEBS)))
    subprocess.run([TOOL, "rootfs"], check=True, env=AIO_ENV)
    c = Container("kumo-aio%d" % os.getpid())
    lead = subprocess.run([TOOL, "boot", c.name], check=True, capture_output=True,
                          text=True, env=AIO_ENV).stdout.strip()
    try:
        root = "/proc/%s/root" % lead
        copy_tree(root, ROOT, SRC, excludes=["./.git", "./build-san"])
        copy_tree(root, IMAGE_DIR, CT_IMAGE_DIR)
        copy_tree(root, KERNEL_DEBS, KERNEL_DEBS)
        yield c
    finally:
        c.save_journal_and_stop()


def snapshot(ct):
    """What --down must give back as it was. Left out: the mounts systemd makes
    under /run/credentials/ for a service while it runs with credentials (one for
    systemd-tmpfiles-setup.service appeared by itself between two snapshots)."""
    return {
        "units": ct.sh("systemctl list-units --all --plain --no-legend --state=active "
                       "| awk '{print $1}' | grep -v '^run-credentials-.*\\.mount$' | sort"),
        "enabled": ct.sh("systemctl list-unit-files --plain --no-legend --state=enabled "
                         "| awk '{print $1}' | sort"),
        "passwd": ct.sh("cut -d: -f1 /etc/passwd | sort"),
        "group": ct.sh("sort /etc/group"),
        "files": ct.sh("find /usr/local /etc/systemd/system /etc/kumo /var/lib/kumo "
                       "2>/dev/null | sort"),
        "domains": ct.sh("virsh -q -c qemu:///system list --all --name 2>/dev/null || true"),
    }


def all_in_one(ct, *args):
    # The kernel package the image was built from: the container's apt lists (no
    # network, maybe older) need not name it.
    deb = sorted(glob.glob(os.path.join(KERNEL_DEBS, "linux-image-*.deb")))[-1]
    r = ct.run("env", "KUMO_TEST_IMAGE_DIR=" + CT_IMAGE_DIR, "KUMO_KERNEL_DEB=" + deb,
               SRC + "/tools/all-in-one", *args, check=False, timeout=900)
    assert r.returncode == 0, (r.stdout[-4000:], r.stderr[-4000:])
    print(r.stdout)
    return r.stdout


def booted(out):
    m = re.search(r"^server \S+: ([0-9a-f-]{36})$", out, re.M)
    assert m, out[-3000:]
    assert re.search(r"^KUMO-GUEST-UP %s\s*$" % m.group(1), out, re.M), out[-3000:]
    return m.group(1)


def test_all_in_one_under_systemd_boots_a_vm_and_down_restores(aio):
    ct = aio
    before = snapshot(ct)
    assert "kumo" not in before["passwd"].split()

    out = all_in_one(ct)
    assert "installing packages (systemd mode)" in out
    sid = booted(out)
    # The daemons run as units, as the kumo user, and the guest's qemu as libvirt-qemu.
    kumo_uid = ct.sh("id -u kumo").strip()
    for d in ("kumo-api", "kumo-scheduler", "kumo-compute"):
        p = ct.show(d + ".service", "ActiveState", "SubState", "MainPID", "NRestarts")
        assert (p["ActiveState"], p["SubState"], p["NRestarts"]) == \
            ("active", "running", "0"), (d, p)
        assert ct.sh("stat -c %%u /proc/%s" % p["MainPID"]).strip() == kumo_uid
    for u in ("rabbitmq-server.service", "libvirtd.service", "virtlogd.service"):
        assert ct.state(u) == "active/running", u
    assert ct.sh("systemctl is-enabled kumo.target").strip() == "enabled"
    assert "kumo-" + sid in ct.sh("virsh -q -c qemu:///system list --name")
    qemu = ct.sh("ps -o user= -C qemu-system-x86_64").split()
    assert qemu and set(qemu) == {"libvirt-qemu"}, qemu
    assert sid in ct.journal("kumo-compute.service")
    # The user kumo may use libvirt (polkit, the group libvirt), kumo-api may not reach it.
    for d, rc in (("kumo-compute", 0), ("kumo-api", 1), ("kumo-scheduler", 1)):
        pid = ct.show(d + ".service", "MainPID")["MainPID"]
        r = ct.run("nsenter", "-t", pid, "-m", "setpriv", "--reuid=kumo", "--regid=kumo",
                   "--init-groups", "test", "-S", "/run/libvirt/libvirt-sock", check=False)
        assert r.returncode == rc, (d, r)

    # Idempotent: a second run boots one more server beside the first.
    sid2 = booted(all_in_one(ct))
    assert sid2 != sid
    assert sorted(ct.sh("virsh -q -c qemu:///system list --name").split()) == \
        sorted(["kumo-" + sid, "kumo-" + sid2])

    down = all_in_one(ct, "--down")
    assert "uninstalling kumo" in down
    after = snapshot(ct)
    for k in before:
        b, a = before[k].splitlines(), after[k].splitlines()
        assert a == b, (k, "gone: %s" % sorted(set(b) - set(a)),
                        "new: %s" % sorted(set(a) - set(b)), down)
    # Idempotent: nothing left to undo.
    all_in_one(ct, "--down")
    assert snapshot(ct) == before
