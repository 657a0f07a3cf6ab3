"""What the e2e tests share: the test guest, built once per session
(tools/make-test-image caches it in $KUMO_TEST_IMAGE_DIR, default
/var/tmp/kumo-test-image, a directory qemu's user libvirt-qemu can reach)."""
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAKE_IMAGE = os.path.join(REPO, "tools", "make-test-image")
IMAGE_DIR = os.environ.get("KUMO_TEST_IMAGE_DIR", "/var/tmp/kumo-test-image")


@pytest.fixture(scope="session")
def test_image():
    """{"dir", "kernel", "initrd", "disk", "cmdline"} of the test guest."""
    if os.geteuid() != 0:
        pytest.skip("the test image's packages and libvirt need root")
    r = subprocess.run([MAKE_IMAGE, IMAGE_DIR], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=900)
    assert r.returncode == 0, "tools/make-test-image failed:\n" + r.stdout
    os.chmod(IMAGE_DIR, 0o755)
    kernel = os.path.join(IMAGE_DIR, "kumo-test.vmlinux")
    if not os.path.exists(kernel):
        kernel = os.path.join(IMAGE_DIR, "kumo-test.vmlinuz")
    with open(os.path.join(IMAGE_DIR, "kumo-test.cmdline")) as f:
        cmdline = f.read().strip()
    return {"dir": IMAGE_DIR, "kernel": kernel,
            "initrd": os.path.join(IMAGE_DIR, "kumo-test.initrd"),
            "disk": os.path.join(IMAGE_DIR, "kumo-test.qcow2"), "cmdline": cmdline}
