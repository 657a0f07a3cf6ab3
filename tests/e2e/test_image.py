"""End-to-end test of tools/make-test-image: the guest really boots and shuts down.

Builds the test image into $KUMO_TEST_IMAGE_DIR (default /var/tmp/kumo-test-image; the
script's stamp makes a rerun with unchanged inputs a no-op of ~2 s; the kernel .deb is
cached in /var/cache/kumo), then boots every form with plain qemu-system-x86_64 under
TCG, no libvirt:

  * direct kernel boot of kumo-test.vmlinuz + kumo-test.initrd (and of the ELF
    kumo-test.vmlinux, when it was produced),
  * BIOS boot (SeaBIOS -> syslinux) of a throwaway qcow2 overlay on kumo-test.qcow2.

Each boot gets a random SMBIOS UUID (-uuid) and must print exactly one
`KUMO-GUEST-UP <that uuid>` on the serial port; an ACPI power-button press
(QMP system_powerdown) must then make qemu exit by itself (clean guest poweroff).
The fastest form is first also reset once (what a hard reboot, and libvirt's soft
reboot after its ACPI power-off, end in) and must print the marker again.

The guest gets a virtio disk and a virtio NIC on `-netdev user,restrict=on`
(isolated: nothing can leave the VM) and sends no traffic anyway.

Run:  /usr/bin/python3 -m pytest -v tests/e2e/test_image.py
Needs (Debian): qemu-system-x86 plus what tools/make-test-image lists (it installs
those itself when run as root).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAKE_IMAGE = os.path.join(REPO, "tools", "make-test-image")
QEMU = shutil.which("qemu-system-x86_64")
QEMU_IMG = shutil.which("qemu-img")

MARKER_TIMEOUT = 90.0     # s from qemu start to the marker (TCG, loaded CI box)
SHUTDOWN_TIMEOUT = 30.0   # s from system_powerdown to qemu's exit
# a whole line: the console is read while the guest still writes it, and
# a uuid cut at the end of the read is not a foreign marker
MARKER_RE = re.compile(r"KUMO-GUEST-UP (\S+)\r*\n")


@pytest.fixture(scope="module")
def image_dir():
    d = os.environ.get("KUMO_TEST_IMAGE_DIR") or "/var/tmp/kumo-test-image"
    t0 = time.monotonic()
    r = subprocess.run([MAKE_IMAGE, d], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=900)
    print(r.stdout)
    print(f"make-test-image took {time.monotonic() - t0:.1f} s")
    assert r.returncode == 0, f"tools/make-test-image failed:\n{r.stdout}"
    return d


class Guest:
    """One qemu process: serial port to a file, QMP on a unix socket."""

    def __init__(self, workdir, boot_args, disk_base, no_reboot=True):
        self.dir = workdir
        self.uuid = str(uuid.uuid4())
        self.serial = os.path.join(workdir, "serial.log")
        self.qmp_path = os.path.join(workdir, "qmp.sock")
        self.overlay = os.path.join(workdir, "disk.qcow2")
        subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", disk_base,
                        "-F", "qcow2", self.overlay], check=True)
        self.argv = [
            QEMU, "-machine", "pc,accel=tcg", "-m", "256", "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none",
            "-uuid", self.uuid,
            "-serial", "file:" + self.serial,
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
            "-drive", f"file={self.overlay},format=qcow2,if=virtio",
            # a NIC must exist, but nothing may leave the VM: restrict=on isolates it
            "-netdev", "user,id=n0,restrict=on",
            "-device", "virtio-net-pci,netdev=n0,romfile=",
        ] + (["-no-reboot"] if no_reboot else []) + boot_args
        self.stderr = open(os.path.join(workdir, "qemu.stderr"), "w+")
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def output(self, start=0):
        """The serial output so far, from character `start` on."""
        try:
            with open(self.serial, "r", errors="replace") as f:
                return f.read()[start:]
        except FileNotFoundError:
            return ""

    def diag(self):
        self.stderr.seek(0)
        return (f"\nqemu: {' '.join(self.argv)}\nqemu stderr/stdout:\n{self.stderr.read()}"
                f"\nserial:\n{self.output()}")

    def wait_markers(self, count=1, timeout=MARKER_TIMEOUT):
        """Waits until `count` marker lines are on the serial port; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            found = MARKER_RE.findall(self.output())
            if len(found) >= count:
                return found, time.monotonic() - self.t_start
            assert self.proc.poll() is None, \
                f"qemu exited ({self.proc.returncode}) before the marker" + self.diag()
            assert time.monotonic() < deadline, \
                f"no {count}x KUMO-GUEST-UP within {timeout} s" + self.diag()
            time.sleep(0.05)

    def qmp(self, command):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.qmp_path)
        f = s.makefile("rw")
        try:
            json.loads(f.readline())  # greeting
            replies = []
            for cmd in ("qmp_capabilities", command):
                f.write(json.dumps({"execute": cmd}) + "\n")
                f.flush()
                while True:  # skip asynchronous events until the command's answer
                    msg = json.loads(f.readline())
                    if "return" in msg or "error" in msg:
                        break
                assert "error" not in msg, f"QMP {cmd}: {msg}"
                replies.append(msg)
            return replies[-1]
        finally:
            f.close()
            s.close()

    def wait_exit(self, timeout):
        t0 = time.monotonic()
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, timeout
        return rc, time.monotonic() - t0

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.stderr.close()


@pytest.fixture
def workdir():
    # short path: a unix socket path must stay under 108 bytes
    d = tempfile.mkdtemp(prefix="kumo-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def guests():
    started = []
    yield started
    for g in started:
        g.kill()


def boot_args(image_dir, form):
    p = lambda name: os.path.join(image_dir, name)  # noqa: E731
    if form == "bios-qcow2":
        return [], p("kumo-test.qcow2")
    kernel = p("kumo-test." + form.split("-", 1)[1])
    if not os.path.exists(kernel):
        pytest.skip(f"{kernel} was not produced")
    with open(p("kumo-test.cmdline")) as f:
        cmdline = f.read().strip()
    return ["-kernel", kernel, "-initrd", p("kumo-test.initrd"), "-append", cmdline], \
        p("kumo-test.qcow2")


def check_tools():
    assert QEMU, "qemu-system-x86_64 not found: apt-get install qemu-system-x86"
    assert QEMU_IMG, "qemu-img not found: apt-get install qemu-utils"


@pytest.mark.parametrize("form", ["direct-vmlinuz", "direct-vmlinux", "bios-qcow2"])
def test_boot_marker_and_acpi_shutdown(image_dir, workdir, guests, form):
    check_tools()
    args, disk = boot_args(image_dir, form)
    has_vmlinux = os.path.exists(os.path.join(image_dir, "kumo-test.vmlinux"))
    # the reboot check rides on the fastest form, to save a boot
    reboot = form == ("direct-vmlinux" if has_vmlinux else "direct-vmlinuz")
    g = Guest(workdir, args, disk, no_reboot=not reboot)
    guests.append(g)

    found, t_marker = g.wait_markers(1)
    boot_start = 0  # where the console output of the boot under test starts
    if reboot:
        t0 = time.monotonic()
        boot_start = len(g.output())
        g.qmp("system_reset")
        found, _ = g.wait_markers(2)
        assert found == [g.uuid, g.uuid], "wrong marker after the reset" + g.diag()
        print(f"{form}: marker again {time.monotonic() - t0:.1f} s after a reset")
    out = g.output(boot_start)
    assert MARKER_RE.findall(out) == [g.uuid], \
        f"not exactly one marker with uuid {g.uuid}" + g.diag()
    assert f"KUMO-GUEST-UP {g.uuid}\n" in out.replace("\r", ""), \
        "marker is not a line of its own" + g.diag()
    # the virtio modules were loaded: the disk and the NIC exist in the guest
    m = re.search(r"kumo-guest: .*block=(.*?)net=(.*)", out)
    assert m, "no kumo-guest diagnostics line" + g.diag()
    assert "vda" in m.group(1).split(), "no virtio disk in the guest" + g.diag()
    assert "eth0" in m.group(2).split(), "no virtio NIC in the guest" + g.diag()
    assert "insmod" not in out, "a module failed to load" + g.diag()
    assert "no ACPI power button" not in out, g.diag()

    g.qmp("system_powerdown")  # the ACPI power button, as virsh shutdown does
    rc, t_exit = g.wait_exit(SHUTDOWN_TIMEOUT)
    assert rc is not None, f"guest ignored the ACPI shutdown for {SHUTDOWN_TIMEOUT} s" + g.diag()
    assert rc == 0, f"qemu exit status {rc}" + g.diag()
    assert "power button pressed" in g.output(boot_start), g.diag()
    print(f"{form}: marker after {t_marker:.1f} s, powered off {t_exit:.1f} s after the button")
