"""Image data through kumo-api (Glance v2 subset): PUT/GET /v2/images/{id}/file,
streamed to and from disk, checksums, aborted uploads, memory use."""
import hashlib
import http.client
import os
import socket

import pytest

from kumocloud import wait_for


def image_dir(cloud):
    return os.path.join(cloud.state_dir(), "images")


def files_of(cloud):
    d = image_dir(cloud)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def status_of(cloud, iid):
    return cloud.get("/v2/images/%s" % iid).json["status"]


def test_upload_and_download(cloud):
    iid = cloud.create_image("data")
    assert cloud.get("/v2/images/%s/file" % iid).status == 204  # no data yet
    data = os.urandom(3 * 1024 * 1024 + 17)
    r = cloud.upload_image(iid, data)
    assert r.status == 204, r
    img = cloud.get("/v2/images/%s" % iid).json
    assert img["status"] == "active"
    assert img["size"] == len(data)
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    assert img["os_hash_algo"] == "sha256"
    assert img["os_hash_value"] == hashlib.sha256(data).hexdigest()
    r = cloud.get("/v2/images/%s/file" % iid)
    assert r.status == 200
    assert r.raw == data
    assert r.header("Content-MD5") == hashlib.md5(data).hexdigest()
    assert r.header("Content-Type") == "application/octet-stream"
    assert iid in files_of(cloud)
    # a second upload to an active image
    r = cloud.upload_image(iid, b"again")
    assert r.status == 409, r
    assert "active to saving" in r.json["conflictingRequest"]["message"]
    assert cloud.get("/v2/images/%s/file" % iid).raw == data
    # delete removes the file
    assert cloud.delete("/v2/images/%s" % iid).status == 204
    assert iid not in files_of(cloud)


def test_empty_upload(cloud):
    iid = cloud.create_image("empty")
    assert cloud.upload_image(iid, b"").status == 204
    img = cloud.get("/v2/images/%s" % iid).json
    assert img["size"] == 0 and img["os_hash_value"] == hashlib.sha256(b"").hexdigest()
    r = cloud.get("/v2/images/%s/file" % iid)
    assert r.status == 200 and r.raw == b""


def test_refusals(cloud):
    iid = cloud.create_image("refusals")
    r = cloud.upload_image(iid, b"x", content_type="application/json")
    assert r.status == 415, r
    r = cloud.upload_image("00000000-0000-4000-8000-000000000000", b"x")
    assert r.status == 404, r
    r = cloud.request("PUT", "/v2/images/%s/file" % iid, raw=b"x", token="demo:demo",
                      headers={"Content-Type": "application/octet-stream"})
    assert r.status in (403, 404), r
    assert status_of(cloud, iid) == "queued"
    r = cloud.post("/v2/images", {"name": "vmdk", "disk_format": "vmdk"})
    assert r.status == 400, r
    r = cloud.post("/v2/images", {"name": "iso", "disk_format": "iso"})
    assert r.status == 400, r
    assert files_of(cloud) == [f for f in files_of(cloud) if not f.startswith(".")]


def test_upload_past_the_json_limit(cloud):
    """max_request_body_size (112 KiB) bounds JSON bodies, not image data."""
    iid = cloud.create_image("big-ish")
    data = b"\0" * (1024 * 1024)
    assert cloud.upload_image(iid, data).status == 204
    assert cloud.get("/v2/images/%s" % iid).json["size"] == len(data)
    r = cloud.post("/v2/images", {"name": "x" * 200000})
    assert r.status in (400, 413), r


def raw_truncated_upload(cloud, iid, declared, sent):
    s = socket.create_connection(("127.0.0.1", cloud.port))
    s.sendall(("PUT /v2/images/%s/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "X-Auth-Token: admin:admin\r\nContent-Type: application/octet-stream\r\n"
               "Content-Length: %d\r\n\r\n" % (iid, declared)).encode())
    s.sendall(b"a" * sent)
    s.close()


def test_truncated_upload_leaves_queued_and_nothing(cloud):
    iid = cloud.create_image("truncated")
    raw_truncated_upload(cloud, iid, 10 * 1024 * 1024, 1024 * 1024)
    wait_for(lambda: status_of(cloud, iid) == "queued" and
             not [f for f in files_of(cloud) if iid in f], 10,
             what="the aborted upload to be cleaned up")
    # and the image can still be uploaded
    assert cloud.upload_image(iid, b"complete").status == 204
    assert status_of(cloud, iid) == "active"


def test_image_in_use_cannot_be_deleted(cloud):
    iid = cloud.create_image("in-use")
    assert cloud.upload_image(iid, b"disk").status == 204
    sid = cloud.boot("uses-image", iid)
    cloud.wait_status(sid, "ACTIVE")
    r = cloud.delete("/v2/images/%s" % iid)
    assert r.status == 409, r
    assert iid in files_of(cloud)
    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid)
    assert cloud.delete("/v2/images/%s" % iid).status == 204
    assert iid not in files_of(cloud)


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_200mb_upload_keeps_rss_low(cloud):
    iid = cloud.create_image("200mb")
    size = 200 * 1024 * 1024
    chunk = bytes(range(256)) * 4096  # 1 MiB
    before = vm_hwm_kb(cloud.pid("api"))
    sha, md5 = hashlib.sha256(), hashlib.md5()
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=120)
    conn.putrequest("PUT", "/v2/images/%s/file" % iid)
    conn.putheader("X-Auth-Token", "admin:admin")
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    for _ in range(size // len(chunk)):
        conn.send(chunk)
        sha.update(chunk)
        md5.update(chunk)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 204
    after = vm_hwm_kb(cloud.pid("api"))
    assert after - before < 32 * 1024, (before, after)
    img = cloud.get("/v2/images/%s" % iid).json
    assert img["size"] == size
    assert img["os_hash_value"] == sha.hexdigest()
    assert img["checksum"] == md5.hexdigest()
    # download streams too
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=120)
    conn.request("GET", "/v2/images/%s/file" % iid, headers={"X-Auth-Token": "admin:admin"})
    resp = conn.getresponse()
    got = hashlib.sha256()
    n = 0
    while True:
        b = resp.read(1 << 20)
        if not b:
            break
        got.update(b)
        n += len(b)
    conn.close()
    assert n == size and got.hexdigest() == sha.hexdigest()
    assert vm_hwm_kb(cloud.pid("api")) - before < 32 * 1024
    assert cloud.delete("/v2/images/%s" % iid).status == 204
