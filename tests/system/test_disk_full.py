"""A full disk is an answer, not a hang (issue 14). The cloud's database
sits on a small tmpfs the test mounts; a filler file takes the rest of it.
While it is full a create answers 503 in Nova's shape with Retry-After and
leaves nothing behind; reads still work; once the filler is gone, creates
work again by themselves.

SQLite writes into the WAL's space before it needs new blocks, so the first
creates after the fill may still be recorded: the test creates until one is
refused, and checks that exactly the acknowledged ones exist.
"""
import os
import subprocess
import tempfile

import pytest

from kumocloud import Cloud, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs: needs root")


@pytest.fixture
def small_disk():
    mnt = tempfile.mkdtemp(prefix="kumo-dbfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt],
                   check=True, timeout=30)
    yield mnt
    subprocess.run(["umount", mnt], check=False, timeout=30)
    os.rmdir(mnt)


@pytest.fixture
def make_disk_cloud(small_disk):
    made = []

    def make(**kw):
        db = os.path.join(small_disk, "kumo.db")
        c = Cloud(computes=1, extra_conf={"database": {"connection": "sqlite:///%s" % db}},
                  **kw)
        made.append(c)
        return c.start(), small_disk
    yield make
    for c in made:
        c.stop()


def fill(path):
    """Writes zeros into path until the filesystem has no room left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for n in (65536, 4096, 512, 1):
            try:
                while os.write(fd, b"\0" * n) > 0:
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


def server_ids(cloud):
    r = cloud.get("/v2.1/servers")
    assert r.status == 200, r
    return {s["id"] for s in r.json["servers"]}


def create(cloud, image, name):
    return cloud.post("/v2.1/servers", body={"server": {
        "name": name, "imageRef": image, "flavorRef": "1"}})


def test_full_disk_answers_503_and_recovers(make_disk_cloud):
    cloud, mnt = make_disk_cloud()
    image = cloud.create_image()
    before = server_ids(cloud)
    filler = os.path.join(mnt, "filler")
    fill(filler)

    acked, refused = set(), None
    for i in range(200):
        r = create(cloud, image, "vm-full-%d" % i)
        assert r.status in (202, 503), r
        if r.status == 503:
            refused = r
            break
        acked.add(r.json["server"]["id"])
    assert refused is not None, "no create was refused on a full disk"
    assert refused.header("Retry-After") is not None
    assert int(refused.header("Retry-After")) > 0
    fault = refused.json["serviceUnavailable"]
    assert fault["code"] == 503
    assert "disk is full" in fault["message"]

    # Reads still work, and the refused create left nothing.
    assert server_ids(cloud) == before | acked
    assert cloud.get("/v2.1/flavors").status == 200
    again = create(cloud, image, "vm-full-again")
    assert again.status == 503, again
    assert server_ids(cloud) == before | acked

    os.unlink(filler)
    r = create(cloud, image, "vm-after")
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    cloud.wait_status(sid, "ACTIVE", timeout=90)
    api_log = cloud.daemons["api"].log_text()
    assert api_log.count("is full; writes fail until there is space again") == 1
    assert "Unexpected API Error" not in api_log


def test_update_lost_to_a_full_disk_is_repaired(make_disk_cloud):
    """The compute's report that a build is done reaches the conductor
    while the disk is full: it cannot be recorded. Once there is space the
    watchdog sends the build to its host again and the compute reports it
    anew; meanwhile no host is judged down for the reports not recorded."""
    cloud, mnt = make_disk_cloud(fake={"spawn_delay_ms": 3000})
    image = cloud.create_image()
    sid = cloud.boot("vm-update-lost", image)
    wait_for(lambda: "instance %s: spawning" % sid in cloud.daemons["compute1"].log_text(),
             20, what="the compute to start spawning")
    filler = os.path.join(mnt, "filler")
    fill(filler)
    lost = "conductor.instance_update failed: DBError: %s: the database's disk is full" % sid
    wait_for(lambda: lost in cloud.daemons["scheduler"].log_text(), 30,
             what="the conductor to fail the update")
    assert cloud.server(sid)["status"] == "BUILD"

    os.unlink(filler)
    s = cloud.wait_status(sid, "ACTIVE", timeout=90)
    assert s["OS-EXT-SRV-ATTR:host"] == "compute1"
    text = cloud.daemons["scheduler"].log_text()
    assert "its build is sent there again" in text
    assert text.count("is full; writes fail until there is space again") == 1
    assert "service heartbeat not recorded" not in text
