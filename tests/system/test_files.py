"""Files other local users must not read (issue 13 item 16): the database
(and its -wal and -shm) that kumo-manage db sync makes, and the compute's
image cache when the deployer gave it qemu's group."""
import grp
import hashlib
import os
import stat

import pytest



def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_database_is_not_readable_by_others(make_cloud):
    c = make_cloud(computes=0)
    db = os.path.join(c.dir, "kumo.db")
    assert c.get("/v2.1/flavors").status == 200    # the API has it open: WAL
    for path in (db, db + "-wal", db + "-shm"):
        assert os.path.exists(path), path
        assert mode(path) & 0o007 == 0, (path, oct(mode(path)))
    # a database an older db sync left 0644 is mended by the next one
    os.chmod(db, 0o644)
    os.chmod(db + "-shm", 0o644)
    r = c.manage("db", "sync")
    assert r.returncode == 0, r
    assert mode(db) == 0o640 and mode(db + "-shm") & 0o007 == 0
    assert c.get("/v2.1/flavors").status == 200


def other_group():
    """A group that is not this process's own (the compute's, here)."""
    for name in ("nogroup", "kvm", "libvirt-qemu", "daemon"):
        try:
            g = grp.getgrnam(name).gr_gid
        except KeyError:
            continue
        if g != os.getegid():
            return g
    return None


def test_image_cache_of_qemus_group_is_closed_to_others(make_cloud):
    if os.geteuid() != 0 or other_group() is None:
        pytest.skip("needs root to give _base another group")
    c = make_cloud(computes=1)
    base = os.path.join(c.state_dir("compute1"), "_base")
    os.makedirs(base)
    os.chmod(base, 0o755)
    os.chown(base, -1, other_group())     # as install-post does with qemu's
    iid = c.create_image("private-bytes")
    assert c.upload_image(iid, b"secret" * 1000).status == 204
    sid = c.boot("cached", iid)
    c.wait_status(sid, "ACTIVE")
    # the cache is keyed by the image's sha256 (os_hash_value)
    cached = os.path.join(base, hashlib.sha256(b"secret" * 1000).hexdigest())
    assert os.path.exists(cached)
    # other users cannot reach the files; qemu's group and the compute can
    assert mode(base) == 0o750, oct(mode(base))
    assert os.stat(base).st_gid == other_group()
    with open(cached, "rb") as f:
        assert f.read() == b"secret" * 1000
