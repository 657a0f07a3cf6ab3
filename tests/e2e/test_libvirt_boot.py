"""End-to-end test of the libvirt virt driver: real guests through libvirtd + QEMU.

Starts virtlogd and libvirtd by hand (tools/libvirt; stopped again at the end unless
they were already up), builds the test image (tools/make-test-image, into
$KUMO_TEST_IMAGE_DIR if set, so it can be reused), then drives the driver with
build/virt-drive, exactly as kumo-compute calls it:

  * direct kernel boot (vmlinux when produced, else vmlinuz) + initrd, with a qcow2
    overlay on kumo-test.qcow2: spawn -> `KUMO-GUEST-UP <uuid>` in the console
    output -> soft reboot (ACPI power-off, start; the marker twice) -> power off
    (state shutdown) -> power on (marker three times) -> destroy;
  * BIOS boot of the qcow2 overlay: spawn -> marker -> spawn again (exists) ->
    hard reboot (marker twice) -> destroy -> destroy again (not found).

After each: no domain (virsh list --all), no instance dir (overlay, console log),
no qemu process of that uuid. The guest's NIC is libvirt user-mode (slirp) and the
guest never brings it up; nothing leaves the machine. Works under TCG (no
/dev/kvm) on a loaded 2-core machine: every wait is bounded.

Run (root):  KUMO_BUILD=build /usr/bin/python3 -m pytest -v tests/e2e/test_libvirt_boot.py
Needs (Debian 12): libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
qemu-system-x86 qemu-utils, plus what tools/make-test-image lists; `make` first.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("KUMO_BUILD", os.path.join(REPO, "build"))
VIRT_DRIVE = os.path.join(BUILD, "virt-drive")
TOOLS_LIBVIRT = os.path.join(REPO, "tools", "libvirt")
URI = "qemu:///system"

MARKER_TIMEOUT = 240.0   # s from spawn to the marker (TCG, loaded 2-core CI box)
OP_TIMEOUT = 180.0       # s for one virt-drive call (soft ops wait up to 60 s inside)
# a whole line: the console is read while the guest still writes it, and
# a uuid cut at the end of the read is not a foreign marker
MARKER_RE = re.compile(r"KUMO-GUEST-UP (\S+)\r*\n")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="qemu:///system needs root")


@pytest.fixture(scope="module")
def image_dir(test_image):
    return test_image["dir"]


@pytest.fixture(scope="module")
def libvirt():
    for tool in ("libvirtd", "virtlogd", "virsh", "qemu-system-x86_64", "qemu-img"):
        assert shutil.which(tool), f"{tool} not found: see this file's docstring"
    assert os.access(VIRT_DRIVE, os.X_OK), f"{VIRT_DRIVE} missing: run make"
    was_up = subprocess.run([TOOLS_LIBVIRT, "status"], capture_output=True).returncode == 0
    t0 = time.monotonic()
    subprocess.run([TOOLS_LIBVIRT, "start"], check=True, timeout=120)
    print(f"libvirt up after {time.monotonic() - t0:.1f} s (was up: {was_up})")
    yield
    if not was_up:
        subprocess.run([TOOLS_LIBVIRT, "stop"], check=True, timeout=60)


@pytest.fixture
def drive(libvirt):
    """A virt-drive bound to a fresh state_path; destroys what a test left."""
    work = tempfile.mkdtemp(prefix="kumo-lv-e2e-", dir="/var/tmp")
    os.chmod(work, 0o755)
    conf = os.path.join(work, "kumo.conf")
    with open(conf, "w") as f:
        f.write(f"[DEFAULT]\nstate_path = {work}/state\n"
                f"[libvirt]\nconnection_uri = {URI}\nvirt_type = auto\n")
    d = Drive(conf, os.path.join(work, "state"))
    yield d
    for u in d.spawned:
        d.run("destroy", u, check=False)
        try:
            os.unlink(f"/var/log/libvirt/qemu/kumo-{u}.log")
        except FileNotFoundError:
            pass
    shutil.rmtree(work, ignore_errors=True)


class Drive:
    def __init__(self, conf, state):
        self.conf = conf
        self.state = state
        self.spawned = []

    def run(self, *args, check=True):
        t0 = time.monotonic()
        r = subprocess.run([VIRT_DRIVE, "-c", self.conf, *args], capture_output=True,
                           text=True, timeout=OP_TIMEOUT)
        dt = time.monotonic() - t0
        if check:
            assert r.returncode == 0, f"virt-drive {' '.join(args)}: {r.returncode}\n{r.stderr}"
        return r, dt

    def spawn(self, u, *opts):
        self.spawned.append(u)
        return self.run("spawn", u, "--memory", "256", "--root-gb", "1", *opts)

    def console(self, u):
        return self.run("console", u)[0].stdout

    def info(self, u):
        return self.run("info", u)[0].stdout

    def wait_markers(self, u, count, t0=None):
        """Waits for `count` markers of u; returns the seconds since t0."""
        t0 = t0 if t0 is not None else time.monotonic()
        deadline = time.monotonic() + MARKER_TIMEOUT
        while True:
            out = self.console(u)
            found = MARKER_RE.findall(out)
            if len(found) >= count:
                assert found == [u] * len(found), f"foreign marker:\n{out}"
                return time.monotonic() - t0
            assert time.monotonic() < deadline, \
                f"no {count}x KUMO-GUEST-UP {u} within {MARKER_TIMEOUT} s:\n{out}\n" \
                f"{self.info(u)}\n{qemu_log(u)}"
            time.sleep(0.2)

    def assert_gone(self, u):
        r = subprocess.run(["virsh", "-q", "-c", URI, "list", "--all", "--name"],
                           capture_output=True, text=True, timeout=60, check=True)
        assert f"kumo-{u}" not in r.stdout.split(), "domain still defined"
        assert not os.path.exists(os.path.join(self.state, "instances", u)), \
            "instance directory (overlay, console log) left"
        assert not qemu_pids(u), "qemu process left"
        assert u not in self.run("list")[0].stdout


def qemu_pids(u):
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                if u.encode() in f.read():
                    pids.append(int(p))
        except OSError:
            pass
    return pids


def qemu_log(u):
    try:
        with open(f"/var/log/libvirt/qemu/kumo-{u}.log") as f:
            return f.read()[-3000:]
    except OSError as e:
        return str(e)


def kernel_args(image_dir):
    p = lambda name: os.path.join(image_dir, name)  # noqa: E731
    kernel = p("kumo-test.vmlinux")
    if not os.path.exists(kernel):
        kernel = p("kumo-test.vmlinuz")
    with open(p("kumo-test.cmdline")) as f:
        cmdline = f.read().strip()
    return ["--kernel", kernel, "--initrd", p("kumo-test.initrd"), "--cmdline", cmdline,
            "--disk", p("kumo-test.qcow2"), "--format", "qcow2"]


def test_direct_kernel_boot_lifecycle(drive, image_dir):
    u = str(uuid.uuid4())
    t0 = time.monotonic()
    _, t_spawn = drive.spawn(u, *kernel_args(image_dir))
    t_marker = drive.wait_markers(u, 1, t0)
    assert "power_state=running" in drive.info(u)
    assert os.path.exists(os.path.join(drive.state, "instances", u, "disk"))

    t0 = time.monotonic()
    _, t_reboot = drive.run("reboot", u)
    t_marker2 = drive.wait_markers(u, 2, t0)

    _, t_off = drive.run("power-off", u)
    assert "power_state=shutdown" in drive.info(u)
    assert not qemu_pids(u)

    t0 = time.monotonic()
    drive.run("power-on", u)
    t_marker3 = drive.wait_markers(u, 3, t0)
    assert u in drive.run("list")[0].stdout

    _, t_destroy = drive.run("destroy", u)
    drive.assert_gone(u)
    print(f"direct boot: spawn call {t_spawn:.1f} s, marker {t_marker:.1f} s after spawn; "
          f"soft reboot call {t_reboot:.1f} s, marker again {t_marker2:.1f} s; "
          f"power-off {t_off:.1f} s; power-on to marker {t_marker3:.1f} s; "
          f"destroy {t_destroy:.1f} s")


def test_bios_boot_hard_reboot(drive, image_dir):
    u = str(uuid.uuid4())
    disk = ["--disk", os.path.join(image_dir, "kumo-test.qcow2"), "--format", "qcow2"]
    t0 = time.monotonic()
    drive.spawn(u, *disk)
    t_marker = drive.wait_markers(u, 1, t0)
    r, _ = drive.run("spawn", u, *disk, check=False)
    assert r.returncode == 4, f"second spawn: {r.returncode} {r.stderr}"

    t0 = time.monotonic()
    _, t_hard = drive.run("reboot", u, "--hard")
    t_marker2 = drive.wait_markers(u, 2, t0)

    _, t_destroy = drive.run("destroy", u)
    drive.assert_gone(u)
    r, _ = drive.run("destroy", u, check=False)
    assert r.returncode == 3, "destroy of an absent instance is not NOTFOUND"
    print(f"BIOS boot: marker {t_marker:.1f} s after spawn; hard reboot call {t_hard:.1f} s, "
          f"marker again {t_marker2:.1f} s; destroy {t_destroy:.1f} s")
