"""Tenant boundaries around images (issue 13, items 1, 2 and 5): Glance's
visibility on every path that resolves an image (boot, and the kernel and
ramdisk an image names), ids never reused after a delete, the compute's
cache keyed by the image's sha256, publicizing admin-only, and image names
without control, format or separator characters, printed escaped by the CLI."""
import hashlib
import os
import subprocess
import uuid

import pytest

from kumocloud import BUILD, wait_for

A = "alice:proj-a"   # noauth2 tokens "user:project": members, not admins
B = "bob:proj-b"
ADMIN = "admin:admin"


def make_image(cloud, token, name="img", **extra):
    body = {"name": name, "disk_format": "qcow2", "container_format": "bare"}
    body.update(extra)
    r = cloud.post("/v2/images", body, token=token)
    assert r.status == 201, r
    return r.json["id"]


def boot(cloud, token, image, name="s"):
    return cloud.post("/v2.1/servers", {"server": {
        "name": name, "imageRef": image, "flavorRef": "1"}}, token=token)


def fault_of(cloud, sid, token):
    def error():
        s = cloud.get("/v2.1/servers/%s" % sid, token=token).json["server"]
        return s if s["status"] in ("ERROR", "ACTIVE") else None
    return wait_for(error, 30, what="server %s to settle" % sid)


@pytest.mark.parametrize("visibility", ["private", "shared"])
def test_another_projects_image_cannot_be_booted(cloud, visibility):
    iid = make_image(cloud, B, "b-" + visibility, visibility=visibility)
    r = boot(cloud, A, iid)
    assert r.status == 400, r
    assert r.json["badRequest"]["message"] == "Can not find requested image"
    # the owner and an admin may
    for token in (B, ADMIN):
        r = boot(cloud, token, iid)
        assert r.status == 202, r
        cloud.wait_status(r.json["server"]["id"], "ACTIVE")
    # and nothing of A's in use keeps B from deleting it (no A server)
    assert cloud.get("/v2.1/servers", token=A).json["servers"] == []


@pytest.mark.parametrize("visibility", ["public", "community"])
def test_public_and_community_images_boot_anywhere(cloud, visibility):
    owner = ADMIN if visibility == "public" else B
    iid = make_image(cloud, owner, "open-" + visibility, visibility=visibility)
    r = boot(cloud, A, iid)
    assert r.status == 202, r
    cloud.wait_status(r.json["server"]["id"], "ACTIVE")


@pytest.mark.parametrize("prop", ["kernel_id", "ramdisk_id"])
def test_kernel_or_ramdisk_of_another_project_is_refused(cloud, prop):
    secret = make_image(cloud, B, "b-kernel")
    disk = make_image(cloud, A, "a-disk", **{prop: secret})
    r = boot(cloud, A, disk)
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    s = fault_of(cloud, sid, A)
    assert s["status"] == "ERROR", s
    msg = s["fault"]["message"]
    assert prop in msg and secret in msg and "could not be found" in msg, msg
    assert "scheduled on" not in cloud.daemons["scheduler"].log_text().split(sid)[-1]
    # B's image stays B's to delete: no live server of A's uses it
    assert cloud.delete("/v2.1/servers/%s" % sid, token=A).status == 204
    cloud.wait_gone(sid)
    assert cloud.delete("/v2/images/%s" % secret, token=B).status == 204


def test_own_and_public_kernel_boot(cloud):
    kernel = make_image(cloud, A, "a-kernel")
    ramdisk = make_image(cloud, ADMIN, "pub-ramdisk", visibility="public")
    disk = make_image(cloud, A, "a-disk2", kernel_id=kernel, ramdisk_id=ramdisk)
    r = boot(cloud, A, disk)
    assert r.status == 202, r
    cloud.wait_status(r.json["server"]["id"], "ACTIVE")


def test_unknown_kernel_is_refused(cloud):
    disk = make_image(cloud, A, "a-disk3", kernel_id=str(uuid.uuid4()))
    r = boot(cloud, A, disk)
    assert r.status == 202, r
    s = fault_of(cloud, r.json["server"]["id"], A)
    assert s["status"] == "ERROR" and "kernel_id" in s["fault"]["message"], s


def test_deleted_image_id_is_never_reused(cloud):
    iid = str(uuid.uuid4())
    assert make_image(cloud, A, "first", id=iid) == iid
    assert cloud.delete("/v2/images/%s" % iid, token=A).status == 204
    assert cloud.get("/v2/images/%s" % iid, token=A).status == 404
    for token in (B, A, ADMIN):
        r = cloud.post("/v2/images", {"name": "again", "id": iid}, token=token)
        assert r.status == 409, r
        assert iid in r.json["conflictingRequest"]["message"]
    assert all(i["id"] != iid for i in cloud.get("/v2/images", token=ADMIN).json["images"])


def test_cache_is_keyed_by_checksum(make_cloud):
    """A file in the compute's cache under the image's id, of the right size
    but other bytes (left by an earlier image of that id, or planted), is not
    booted: the cache is keyed and checked by the image's sha256."""
    c = make_cloud(computes=1)
    iid = make_image(c, A, "cached")
    data = os.urandom(64 * 1024)
    r = c.request("PUT", "/v2/images/%s/file" % iid, raw=data, token=A,
                  headers={"Content-Type": "application/octet-stream"})
    assert r.status == 204, r
    base = os.path.join(c.state_dir("compute1"), "_base")
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, iid), "wb") as f:
        f.write(b"\0" * len(data))
    r = boot(c, A, iid)
    assert r.status == 202, r
    c.wait_status(r.json["server"]["id"], "ACTIVE")
    assert c.daemons["api"].log_text().count("GET /v2/images/%s/file status 200" % iid) == 1
    sha = hashlib.sha256(data).hexdigest()
    with open(os.path.join(base, sha), "rb") as f:
        assert f.read() == data


def test_only_admins_publicize(cloud):
    r = cloud.post("/v2/images", {"name": "mine", "visibility": "public"}, token=A)
    assert r.status == 403, r
    assert "publicize_image" in r.json["forbidden"]["message"]
    assert all(i["name"] != "mine" for i in cloud.get("/v2/images", token=B).json["images"])
    for vis in ("private", "shared", "community"):
        make_image(cloud, A, "mine-" + vis, visibility=vis)
    make_image(cloud, ADMIN, "admins-public", visibility="public")


@pytest.mark.parametrize("name", [
    "evil\x1b[2Jname", "bell\x07", "del\x7f", "c1\u009bx", "rtl\u202eexe.gpj",
    "zero\u200bwidth", "line\u2028sep", "para\u2029", "bom\ufeff", "n" * 256,
])
def test_image_names_refused(cloud, name):
    r = cloud.post("/v2/images", {"name": name}, token=A)
    assert r.status == 400, r
    assert "name" in r.json["badRequest"]["message"]


@pytest.mark.parametrize("name", ["", "plain", "caf\u00e9 \u65e5\u672c", "n" * 255])
def test_image_names_accepted(cloud, name):
    make_image(cloud, A, name)


def test_cli_escapes_control_characters(cloud, tmp_path):
    """An image named with terminal escapes before names were checked (written
    into the database directly) is shown escaped by `kumo image list`."""
    iid = make_image(cloud, ADMIN, "placeholder", visibility="public")
    bad = "x\x1b[1A\x1b[2Ky\u202ez\u009b"
    subprocess.run(["sqlite3", os.path.join(cloud.dir, "kumo.db"),
                    "UPDATE images SET name = '%s' WHERE id = '%s'" % (bad, iid)],
                   check=True)
    env = {k: v for k, v in cloud.env.items() if not k.startswith("KUMO_")}
    env["HOME"] = str(tmp_path)
    out = subprocess.run([os.path.join(BUILD, "kumo"), "--url", cloud.url,
                          "--token", A, "image", "list"], capture_output=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out
    text = out.stdout.decode()
    line = [ln for ln in text.splitlines() if iid in ln]
    assert len(line) == 1, text
    assert "x\\x1b[1A\\x1b[2Ky\\u202ez\\u009b" in line[0]
    assert not any(ch in text for ch in "\x1b\u202e\u009b")
