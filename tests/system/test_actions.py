"""Server actions through the whole stack (fake virt driver): reboot,
os-stop, os-start, os-getConsoleOutput, their state checks and records."""
import hashlib
import os
import sqlite3

import pytest

from kumocloud import wait_for


def action(cloud, sid, body):
    return cloud.post("/v2.1/servers/%s/action" % sid, body)


def actions_of(cloud, sid):
    """The instance_actions rows of sid, oldest first (read-only)."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(cloud.dir, "kumo.db"), uri=True)
    try:
        return db.execute("SELECT action, request_id, finish_time, message FROM "
                          "instance_actions WHERE instance_uuid = ? ORDER BY id",
                          (sid,)).fetchall()
    finally:
        db.close()


@pytest.fixture(scope="module")
def server(cloud, image):
    sid = cloud.boot("vm-actions", image)
    cloud.wait_status(sid, "ACTIVE")
    yield sid
    cloud.delete("/v2.1/servers/%s" % sid)
    cloud.wait_gone(sid)


def wait_task_none(cloud, sid, status):
    return wait_for(lambda: (lambda s: s if s["status"] == status and
                             s["OS-EXT-STS:task_state"] is None else None)(cloud.server(sid)),
                    20, what="%s with no task" % status)


def test_reboot_soft_and_hard(cloud, server):
    r = action(cloud, server, {"reboot": {"type": "SOFT"}})
    assert r.status == 202, r
    assert r.raw == b""
    s = wait_task_none(cloud, server, "ACTIVE")
    assert s["OS-EXT-STS:power_state"] == 1
    r = action(cloud, server, {"reboot": {"type": "hard"}})
    assert r.status == 202, r
    wait_task_none(cloud, server, "ACTIVE")
    names = [a[0] for a in actions_of(cloud, server)]
    assert names[:1] == ["create"] and names.count("reboot") >= 2
    assert all(a[2] for a in actions_of(cloud, server)), "every action finished"


def test_stop_start(cloud, server):
    r = action(cloud, server, {"os-stop": None})
    assert r.status == 202, r
    s = wait_task_none(cloud, server, "SHUTOFF")
    assert s["OS-EXT-STS:vm_state"] == "stopped"
    assert s["OS-EXT-STS:power_state"] == 4
    # stopped: soft reboot and stop are refused with Nova's words
    r = action(cloud, server, {"reboot": {"type": "SOFT"}})
    assert r.status == 409, r
    assert r.json["conflictingRequest"]["message"] == (
        "Cannot 'reboot' instance %s while it is in vm_state stopped" % server)
    r = action(cloud, server, {"os-stop": None})
    assert r.status == 409, r
    assert "Cannot 'stop' instance" in r.json["conflictingRequest"]["message"]
    # a hard reboot of a stopped server starts it (Nova)
    r = action(cloud, server, {"reboot": {"type": "HARD"}})
    assert r.status == 202, r
    wait_task_none(cloud, server, "ACTIVE")
    r = action(cloud, server, {"os-start": None})
    assert r.status == 409, r
    assert r.json["conflictingRequest"]["message"] == (
        "Cannot 'start' instance %s while it is in vm_state active" % server)
    assert action(cloud, server, {"os-stop": None}).status == 202
    wait_task_none(cloud, server, "SHUTOFF")
    assert action(cloud, server, {"os-start": None}).status == 202
    s = wait_task_none(cloud, server, "ACTIVE")
    assert s["OS-EXT-STS:power_state"] == 1
    rows = actions_of(cloud, server)
    names = [a[0] for a in rows]
    assert "stop" in names and "start" in names
    assert all(a[2] and a[3] is None or a[3] == "" for a in rows), rows


def test_concurrent_actions_one_wins(cloud, server):
    import threading
    results = []

    def go():
        results.append(action(cloud, server, {"reboot": {"type": "SOFT"}}).status)
    ts = [threading.Thread(target=go) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert results.count(202) >= 1 and set(results) <= {202, 409}, results
    wait_task_none(cloud, server, "ACTIVE")


def test_console_output(cloud, server):
    r = action(cloud, server, {"os-getConsoleOutput": {}})
    assert r.status == 200, r
    assert r.json["output"] == "FAKE CONSOLE OUTPUT of %s\nkumo login: " % server
    r = action(cloud, server, {"os-getConsoleOutput": {"length": 1}})
    assert r.status == 200, r
    assert r.json["output"] == "kumo login: "
    for length in (None, -1, "-1", "2", 100):
        r = action(cloud, server, {"os-getConsoleOutput": {"length": length}})
        assert r.status == 200, (length, r)
        assert r.json["output"].startswith("FAKE CONSOLE OUTPUT")
    r = action(cloud, server, {"os-getConsoleOutput": {"length": 0}})
    assert r.status == 200 and r.json["output"] == ""


@pytest.mark.parametrize("body,fragment", [
    ({"reboot": {"type": "SOFT"}, "os-stop": None}, "Malformed request body"),
    ({}, "Malformed request body"),
    ({"os-fly": None}, "There is no such action: os-fly"),
    ({"reboot": {"type": "MEDIUM"}}, "Invalid input for field/attribute type. "
     "Value: 'MEDIUM'. 'MEDIUM' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']"),
    ({"reboot": {}}, "'type' is a required property"),
    ({"reboot": "HARD"}, "is not of type 'object'"),
    ({"reboot": {"type": "HARD", "x": 1}}, "Additional properties are not allowed"),
    ({"os-getConsoleOutput": {"length": -2}}, "less than the minimum of -1"),
    ({"os-getConsoleOutput": {"length": "ten"}}, "does not match"),
    ({"os-getConsoleOutput": {"length": 1.5}}, "is not of type"),
    ({"os-getConsoleOutput": {"lines": 1}}, "Additional properties are not allowed"),
    ({"os-getConsoleOutput": None}, "is not of type 'object'"),
])
def test_bad_bodies(cloud, server, body, fragment):
    r = action(cloud, server, body)
    assert r.status == 400, r
    assert fragment in r.json["badRequest"]["message"], r


def test_unknown_server_and_not_uuid(cloud):
    r = action(cloud, "7c0f6d4c-0000-4000-8000-000000000000", {"os-stop": None})
    assert r.status == 404, r
    r = action(cloud, "nope", {"os-stop": None})
    assert r.status == 404, r
    r = cloud.get("/v2.1/servers/7c0f6d4c-0000-4000-8000-000000000000/action")
    assert r.status == 405, r


def test_error_without_host(make_cloud):
    c = make_cloud(computes=1, fake={"vcpus": 1, "memory_mb": 256, "local_gb": 1})
    img = c.create_image()
    sid = c.boot("too-big", img, flavor="1")
    c.wait_status(sid, "ERROR")
    r = action(c, sid, {"os-getConsoleOutput": {}})
    assert r.status == 409, r
    assert r.json["conflictingRequest"]["message"] == "Instance %s is not ready." % sid
    r = action(c, sid, {"os-stop": None})
    assert r.status == 409, r
    r = action(c, sid, {"os-start": None})
    assert r.status == 409, r
    assert "while it is in vm_state error" in r.json["conflictingRequest"]["message"]


def test_console_timeout_is_500(make_cloud):
    c = make_cloud(computes=1)
    img = c.create_image()
    sid = c.boot("lonely", img)
    c.wait_status(sid, "ACTIVE")
    c.stop_daemon("compute1")
    r = action(c, sid, {"os-getConsoleOutput": {}})
    assert r.status == 500, r
    assert r.json["computeFault"]["code"] == 500
    assert "compute1" in r.json["computeFault"]["message"]


def test_boot_from_image_with_data_cached_once(make_cloud):
    c = make_cloud(computes=1)
    iid = c.create_image("with-data")
    data = os.urandom(2 * 1024 * 1024 + 3)
    assert c.upload_image(iid, data).status == 204
    ids = [c.boot("cached-%d" % i, iid) for i in range(2)]
    for sid in ids:
        c.wait_status(sid, "ACTIVE")
    cached = os.path.join(c.state_dir("compute1"), "_base", hashlib.sha256(data).hexdigest())
    with open(cached, "rb") as f:
        assert f.read() == data
    assert [f for f in os.listdir(os.path.dirname(cached)) if f.startswith(".")] == []
    api_log = c.daemons["api"].log_text()
    assert api_log.count("GET /v2/images/%s/file status 200" % iid) == 1, api_log[-3000:]
    assert c.daemons["compute1"].log_text().count("downloaded into the cache") == 1
    # a third server later reuses the file
    sid = c.boot("cached-3", iid)
    c.wait_status(sid, "ACTIVE")
    assert c.daemons["api"].log_text().count("GET /v2/images/%s/file status 200" % iid) == 1


def test_boot_from_corrupted_image_goes_to_error(make_cloud):
    c = make_cloud(computes=1)
    iid = c.create_image("corrupted")
    data = b"good data" * 1000
    assert c.upload_image(iid, data).status == 204
    with open(os.path.join(c.state_dir(), "images", iid), "r+b") as f:
        f.write(b"BAD")  # same size, other bytes
    sid = c.boot("corrupted", iid)
    s = c.wait_status(sid, "ERROR")
    assert s["fault"]["code"] == 500
    log = c.daemons["compute1"].log_text()
    assert "checksum mismatch" in log
    base = os.path.join(c.state_dir("compute1"), "_base")
    assert not os.path.isdir(base) or os.listdir(base) == []
