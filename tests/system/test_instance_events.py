"""GET /v2.1/servers/{id}/os-instance-actions/{request_id}: the events of an
action (the steps the computes and the conductor reported), with Nova's
shapes and who may see what per microversion: admins always (with the
traceback; host from 2.62, details from 2.84), the owner from 2.51 (without
them), hostId for both from 2.62."""
from kumocloud import wait_for

OWNER = "ev-user:ev-project"


def mv(v):
    return {"OpenStack-API-Version": "compute %s" % v}


def action(cloud, sid, rid, version="2.1", token="admin:admin"):
    r = cloud.get("/v2.1/servers/%s/os-instance-actions/%s" % (sid, rid),
                  headers=mv(version), token=token)
    assert r.status == 200, r
    return r.json["instanceAction"]


def request_ids(cloud, sid, version="2.1", token="admin:admin"):
    r = cloud.get("/v2.1/servers/%s/os-instance-actions" % sid, headers=mv(version),
                  token=token)
    assert r.status == 200, r
    return [(a["action"], a["request_id"]) for a in r.json["instanceActions"]]


def test_events_of_each_action(cloud):
    r = cloud.post("/v2/images", {"name": "ev-img", "disk_format": "qcow2",
                                  "container_format": "bare"}, token=OWNER)
    assert r.status == 201, r
    r = cloud.post("/v2.1/servers", {"server": {"name": "ev-vm", "imageRef": r.json["id"],
                                                "flavorRef": "1"}}, token=OWNER)
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    s = cloud.wait_status(sid, "ACTIVE")
    host = s["OS-EXT-SRV-ATTR:host"]
    for act, status in (("os-stop", "SHUTOFF"), ("os-start", "ACTIVE"),
                        ("reboot", "ACTIVE")):
        body = {act: {"type": "SOFT"} if act == "reboot" else None}
        r = cloud.post("/v2.1/servers/%s/action" % sid, body, token=OWNER)
        assert r.status == 202, r
        cloud.wait_status(sid, status)
    wait_for(lambda: len(request_ids(cloud, sid)) == 4
             and action(cloud, sid, request_ids(cloud, sid)[0][1])["events"], 10,
             what="the reboot's event")
    want = {"create": "compute__do_build_and_run_instance",
            "stop": "compute_stop_instance", "start": "compute_start_instance",
            "reboot": "compute_reboot_instance"}
    acts = request_ids(cloud, sid)
    assert [a for a, _ in acts] == ["reboot", "start", "stop", "create"]
    for name, rid in acts:
        a = action(cloud, sid, rid, "2.84")
        assert len(a["events"]) == 1, a
        e = a["events"][0]
        assert list(e) == ["event", "start_time", "finish_time", "result", "traceback",
                           "host", "hostId", "details"]
        assert (e["event"], e["result"], e["traceback"], e["details"]) == (
            want[name], "Success", None, None)
        assert (e["host"], e["hostId"]) == (host, s["hostId"])
        assert e["start_time"] <= e["finish_time"] and e["finish_time"].endswith(".000000")

    rid = acts[0][1]
    # admins: the traceback always; host and hostId from 2.62
    assert list(action(cloud, sid, rid, "2.1")["events"][0]) == [
        "event", "start_time", "finish_time", "result", "traceback"]
    assert list(action(cloud, sid, rid, "2.62")["events"][0]) == [
        "event", "start_time", "finish_time", "result", "traceback", "host", "hostId"]
    # the owner: no events before 2.51, then without traceback, host, details
    assert "events" not in action(cloud, sid, rid, "2.50", token=OWNER)
    assert list(action(cloud, sid, rid, "2.51", token=OWNER)["events"][0]) == [
        "event", "start_time", "finish_time", "result"]
    e = action(cloud, sid, rid, "2.93", token=OWNER)["events"][0]
    assert list(e) == ["event", "start_time", "finish_time", "result", "hostId"]
    assert e["hostId"] == s["hostId"]
    # another project sees nothing of the server
    r = cloud.get("/v2.1/servers/%s/os-instance-actions/%s" % (sid, rid),
                  token="x:other-project")
    assert r.status == 404, r

    # delete: a "delete" action with the compute's terminate event (2.21+)
    assert cloud.delete("/v2.1/servers/%s" % sid, token=OWNER).status == 204
    cloud.wait_gone(sid)
    acts = request_ids(cloud, sid, "2.21")
    assert acts[0][0] == "delete"
    e = wait_for(lambda: action(cloud, sid, acts[0][1], "2.62")["events"], 10,
                 what="the terminate event")
    assert [(x["event"], x["result"], x["host"]) for x in e] == [
        ("compute_terminate_instance", "Success", host)]


def test_scheduling_failure_event(cloud, image):
    """No host fits: the create action gets the conductor's event, Error,
    with the reason as traceback and (2.84) details."""
    r = cloud.post("/v2.1/flavors", {"flavor": {"name": "ev-huge", "ram": 1 << 30,
                                                "vcpus": 1, "disk": 1}})
    assert r.status == 200, r
    fid = r.json["flavor"]["id"]
    sid = cloud.boot("ev-novalid", image, flavor=fid)
    cloud.wait_status(sid, "ERROR")
    (name, rid), = request_ids(cloud, sid)
    e = wait_for(lambda: action(cloud, sid, rid, "2.84")["events"], 10,
                 what="the conductor's event")
    assert len(e) == 1
    e = e[0]
    assert (e["event"], e["result"], e["host"]) == (
        "conductor_schedule_and_build_instances", "Error", "controller")
    assert e["details"].startswith("No valid host was found.")
    assert "RamFilter" in e["traceback"]
    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid)
    assert cloud.delete("/v2.1/flavors/%s" % fid).status == 202
