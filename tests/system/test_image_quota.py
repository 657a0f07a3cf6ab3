"""Image quotas and the image store's bounds (issue 13, item 3): Glance's
per-project image_count_total, image_size_total (MiB) and
image_count_uploading, the per-image image_size_cap, the free space kept on
the store's filesystem (image_store_reserve_mb), the store's own directory
(image_store_path); every refused, cut or failed upload leaves the image
queued and no file behind, for a declared length and for a chunked body,
on a store that fills mid-upload too."""
import http.client
import os
import socket
import stat
import subprocess
import tempfile

import pytest

from kumocloud import wait_for

A = "alice:proj-a"
B = "bob:proj-b"
MIB = 1024 * 1024


def glance(**keys):
    return {"glance": {k: str(v) for k, v in keys.items()}}


def make_image(cloud, token=A, name="img"):
    r = cloud.post("/v2/images", {"name": name, "disk_format": "raw",
                                  "container_format": "bare"}, token=token)
    assert r.status == 201, r
    return r.json["id"]


def status_of(cloud, iid, token=A):
    return cloud.get("/v2/images/%s" % iid, token=token).json["status"]


def store_files(path):
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def default_store(cloud):
    return os.path.join(cloud.state_dir(), "images")


def upload(cloud, iid, chunks, token=A, chunked=False, close_after=None):
    """PUT the chunks (declared length unless chunked); the response status
    and body, or None when close_after chunks were sent and the connection
    then closed (a client gone mid-body)."""
    s = socket.create_connection(("127.0.0.1", cloud.port), timeout=30)
    head = ("PUT /v2/images/%s/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "X-Auth-Token: %s\r\nContent-Type: application/octet-stream\r\n"
            % (iid, token))
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
    else:
        head += "Content-Length: %d\r\n\r\n" % sum(len(c) for c in chunks)
    try:
        s.sendall(head.encode())
        for i, c in enumerate(chunks):
            if close_after is not None and i == close_after:
                s.close()
                return None
            s.sendall(b"%x\r\n%s\r\n" % (len(c), c) if chunked else c)
        if chunked:
            s.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused while sending: the answer is already there
    resp = http.client.HTTPResponse(s)
    resp.begin()
    body = resp.read()
    s.close()
    return resp.status, body


def assert_refused(cloud, iid, result, words, store):
    assert result is not None and result[0] == 413, result
    assert words in result[1].decode(), result
    wait_for(lambda: status_of(cloud, iid) == "queued", 10,
             what="image %s to be queued again" % iid)
    assert [f for f in store_files(store) if iid in f] == []


def test_image_count_total(make_cloud):
    c = make_cloud(computes=0, extra_conf=glance(image_count_total=3))
    made = [make_image(c, A, "n%d" % i) for i in range(3)]
    r = c.post("/v2/images", {"name": "fourth"}, token=A)
    assert r.status == 413, r
    msg = r.json["overLimit"]["message"]
    assert msg == ("Project proj-a is over a limit for [Resource "
                   "image_count_total is over limit of 3 due to current "
                   "usage 3 and delta 1]"), msg
    assert len(c.get("/v2/images", token=A).json["images"]) == 3
    make_image(c, B, "b's own")      # another project's count is its own
    assert c.delete("/v2/images/%s" % made[0], token=A).status == 204
    make_image(c, A, "after a delete")


def test_image_size_cap(make_cloud):
    c = make_cloud(computes=0, extra_conf=glance(image_size_cap=MIB))
    store = default_store(c)
    iid = make_image(c)
    # a declared length over the cap: refused before a byte is stored
    assert_refused(c, iid, upload(c, iid, [b"a" * (MIB + 1)]),
                   "The incoming image is too large", store)
    # a chunked body: refused while it streams
    assert_refused(c, iid, upload(c, iid, [b"b" * (256 * 1024)] * 5, chunked=True),
                   "The incoming image is too large", store)
    # exactly the cap, chunked, is stored
    assert upload(c, iid, [b"c" * (256 * 1024)] * 4, chunked=True)[0] == 204
    img = c.get("/v2/images/%s" % iid, token=A).json
    assert img["status"] == "active" and img["size"] == MIB


def test_image_size_total(make_cloud):
    c = make_cloud(computes=0, extra_conf=glance(image_size_total=1))
    store = default_store(c)
    first, second = make_image(c, name="first"), make_image(c, name="second")
    assert upload(c, first, [b"1" * (600 * 1024)])[0] == 204
    words = "image_size_total is over limit of 1"
    assert_refused(c, second, upload(c, second, [b"2" * (600 * 1024)]), words, store)
    assert_refused(c, second, upload(c, second, [b"2" * (100 * 1024)] * 6,
                                     chunked=True), words, store)
    # what is left fits; another project's quota is its own
    assert upload(c, second, [b"3" * (400 * 1024)], chunked=True)[0] == 204
    other = make_image(c, B, "b")
    assert upload(c, other, [b"4" * (600 * 1024)], token=B)[0] == 204


def test_image_count_uploading(make_cloud):
    c = make_cloud(computes=0, extra_conf=glance(image_count_uploading=1))
    first, second = make_image(c, name="first"), make_image(c, name="second")
    # one upload under way: its headers and a part of its body
    s = socket.create_connection(("127.0.0.1", c.port), timeout=30)
    s.sendall(("PUT /v2/images/%s/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "X-Auth-Token: %s\r\nContent-Type: application/octet-stream\r\n"
               "Content-Length: %d\r\n\r\n" % (first, A, MIB)).encode() + b"x" * 1024)
    wait_for(lambda: status_of(c, first) == "saving", 10, what="the first upload")
    r = upload(c, second, [b"y" * 10])
    assert r[0] == 413 and b"image_count_uploading is over limit of 1" in r[1], r
    assert status_of(c, second) == "queued"
    s.close()
    wait_for(lambda: status_of(c, first) == "queued", 10, what="the cut upload")
    assert upload(c, second, [b"y" * 10])[0] == 204


def test_store_reserve(make_cloud):
    """A reserve larger than the filesystem's free space: nothing fits."""
    c = make_cloud(computes=0, extra_conf=glance(image_store_reserve_mb=1 << 30))
    store = default_store(c)
    iid = make_image(c)
    assert_refused(c, iid, upload(c, iid, [b"a" * 1024]),
                   "Image storage media is full", store)
    assert_refused(c, iid, upload(c, iid, [b"a" * 1024] * 3, chunked=True),
                   "Image storage media is full", store)
    # the rest of the API still answers and writes
    assert c.post("/v2/images", {"name": "still"}, token=A).status == 201


def test_store_path_and_cut_uploads(make_cloud, tmp_path):
    store = str(tmp_path / "store" / "images")
    c = make_cloud(computes=0, extra_conf=glance(image_store_path=store))
    iid = make_image(c)
    # a client that sends half the body and goes away, declared and chunked
    for chunked in (False, True):
        assert upload(c, iid, [b"h" * (64 * 1024)] * 8, chunked=chunked,
                      close_after=4) is None
        wait_for(lambda: status_of(c, iid) == "queued" and
                 not [f for f in store_files(store) if iid in f], 10,
                 what="the cut upload to be cleaned up")
    data = os.urandom(100 * 1024)
    assert upload(c, iid, [data])[0] == 204
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o750
    assert store_files(store) == [iid]
    assert not os.path.exists(default_store(c))
    assert c.get("/v2/images/%s/file" % iid, token=A).raw == data
    assert c.delete("/v2/images/%s" % iid, token=A).status == 204
    assert store_files(store) == []


@pytest.fixture
def small_store():
    """A 16 MiB tmpfs for the image store (mounting needs root)."""
    if os.geteuid() != 0:
        pytest.skip("mounts a tmpfs: needs root")
    mnt = tempfile.mkdtemp(prefix="kumo-imgfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt],
                   check=True, timeout=30)
    yield mnt
    subprocess.run(["umount", mnt], check=False, timeout=30)
    os.rmdir(mnt)


def test_store_fills_mid_upload(make_cloud, small_store):
    """No reserve: a chunked upload larger than the filesystem is refused
    when the next chunk no longer fits (413), queued, no file, and the
    space is free again for the next upload."""
    store = os.path.join(small_store, "images")
    c = make_cloud(computes=0, extra_conf=glance(image_store_path=store,
                                                 image_store_reserve_mb=0))
    iid = make_image(c)
    # (a body refused mid-stream is read on for up to 16 times
    # max_request_body_size before its answer: 17 MiB on 16 is answered)
    assert_refused(c, iid, upload(c, iid, [b"w" * MIB] * 17, chunked=True),
                   "Image storage media is full", store)
    assert "upload aborted after" in c.daemons["api"].log_text()
    assert upload(c, iid, [b"w" * MIB] * 4, chunked=True)[0] == 204


def test_reserve_on_a_small_store(make_cloud, small_store):
    """An 8 MiB reserve on 16 MiB: 6 MiB fit, then no upload takes the
    reserve, declared (a 4 MiB body: answered before it is read) or
    chunked."""
    store = os.path.join(small_store, "images")
    c = make_cloud(computes=0, extra_conf=glance(image_store_path=store,
                                                 image_store_reserve_mb=8))
    first, second = make_image(c, name="first"), make_image(c, name="second")
    assert upload(c, first, [b"r" * MIB] * 6)[0] == 204
    assert_refused(c, second, upload(c, second, [b"r" * MIB] * 4),
                   "Image storage media is full", store)
    assert_refused(c, second, upload(c, second, [b"r" * MIB] * 3, chunked=True),
                   "Image storage media is full", store)
    free = os.statvfs(store)
    assert free.f_bavail * free.f_frsize >= 8 * MIB
