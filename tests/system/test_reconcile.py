"""kumo-compute's reconciliation with the database (compute/sync.c), on the
fake driver with its test knobs:

- [fake] power_off_after_ms: a guest powers itself off; the periodic power
  state sync must show it SHUTOFF through the API, and leave alone an
  instance whose action is in progress.
- [fake] persist: the fake's "domains" outlive a restart of kumo-compute
  (as libvirt's do), so the start-up reap of the domain of an instance
  deleted while its compute was down can be seen.
"""
import json
import os
import sqlite3
import subprocess
import time
import uuid

from kumocloud import BUILD, wait_for


def fake_domains(cloud, host="compute1"):
    """The uuids in the fake driver's persisted table."""
    with open(os.path.join(cloud.state_dir(host), "fake-instances.json")) as f:
        return sorted(e["uuid"] for e in json.load(f))


def delete_behind_its_back(cloud, sid):
    """Marks the instance deleted as the conductor would, without telling
    its compute (a delete while the compute was down, its cast lost)."""
    db = sqlite3.connect(os.path.join(cloud.dir, "kumo.db"))
    try:
        with db:
            now = time.strftime("%Y-%m-%dT%H:%M:%S")
            db.execute("UPDATE instances SET deleted = 1, deleted_at = ?, "
                       "vm_state = 'deleted', task_state = NULL WHERE uuid = ?",
                       (now, sid))
            db.execute("DELETE FROM allocations WHERE instance_uuid = ?", (sid,))
    finally:
        db.close()


def test_guest_powers_itself_off(make_cloud):
    cloud = make_cloud(computes=1, fake={"power_off_after_ms": 3000})
    image = cloud.create_image()
    sid = cloud.boot("vm-off", image)
    cloud.wait_status(sid, "ACTIVE")
    s = cloud.wait_status(sid, "SHUTOFF", timeout=20)
    assert s["OS-EXT-STS:vm_state"] == "stopped"
    assert s["OS-EXT-STS:power_state"] == 4
    assert s["OS-EXT-STS:task_state"] is None
    assert "power state 4" in cloud.daemons["compute1"].log_text()
    # The sync made no action: only "create" is recorded.
    r = cloud.get("/v2.1/servers/%s/os-instance-actions" % sid)
    assert [a["action"] for a in r.json["instanceActions"]] == ["create"]
    # Started again, it runs until it powers itself off once more.
    r = cloud.post("/v2.1/servers/%s/action" % sid, {"os-start": None})
    assert r.status == 202, r
    cloud.wait_status(sid, "ACTIVE")
    cloud.wait_status(sid, "SHUTOFF", timeout=20)
    cloud.delete("/v2.1/servers/%s" % sid)
    cloud.wait_gone(sid)


def test_sync_leaves_an_action_alone(make_cloud):
    # Spawns take 4 s: the instance is in "spawning" for several syncs
    # (report_interval = 1), which must not touch it.
    cloud = make_cloud(computes=1, fake={"spawn_delay_ms": 4000})
    image = cloud.create_image()
    sid = cloud.boot("vm-slow", image)
    s = cloud.wait_status(sid, "ACTIVE", timeout=30)
    assert s["OS-EXT-STS:power_state"] == 1
    assert "the hypervisor has power state" not in cloud.daemons["compute1"].log_text()


def test_reap_at_start(make_cloud):
    cloud = make_cloud(computes=1, fake={"persist": "true"})
    image = cloud.create_image()
    gone = cloud.boot("vm-gone", image)
    kept = cloud.boot("vm-kept", image)
    cloud.wait_status(gone, "ACTIVE")
    cloud.wait_status(kept, "ACTIVE")
    assert fake_domains(cloud) == sorted([gone, kept])

    assert cloud.stop_daemon("compute1") == 0
    delete_behind_its_back(cloud, gone)
    assert fake_domains(cloud) == sorted([gone, kept]), "outlived the stop"
    # A domain the database does not know at all (a renamed host, a restored
    # database): never destroyed on the host's word alone.
    path = os.path.join(cloud.state_dir("compute1"), "fake-instances.json")
    with open(path) as f:
        table = json.load(f)
    stranger = dict(table[0], uuid=str(uuid.uuid4()))
    with open(path, "w") as f:
        json.dump(table + [stranger], f)

    cloud.start_compute("compute1")
    wait_for(lambda: fake_domains(cloud) == sorted([kept, stranger["uuid"]]), 20,
             what="the domain of the deleted instance to be reaped")
    log = cloud.daemons["compute1"].log_text()
    assert "instance %s: deleted while this host was down" % gone in log
    assert "instance %s: a domain here that the database does not place" \
        % stranger["uuid"] in log
    assert cloud.wait_status(kept, "ACTIVE")["OS-EXT-STS:power_state"] == 1
    # The kept domain is still there: its console answers.
    r = cloud.post("/v2.1/servers/%s/action" % kept,
                   {"os-getConsoleOutput": {"length": -1}})
    assert r.status == 200, r
    assert cloud.get("/v2.1/servers/%s" % gone).status == 404
    cloud.delete("/v2.1/servers/%s" % kept)
    cloud.wait_gone(kept)
    assert fake_domains(cloud) == [stranger["uuid"]]


def test_instances_on_host_over_the_wire(make_cloud):
    """conductor.instances_on_host as rpc-call sees it: the live instances
    of the host, and InvalidParameterValue for a bad host."""
    cloud = make_cloud(computes=1)
    image = cloud.create_image()
    sid = cloud.boot("vm-listed", image)
    cloud.wait_status(sid, "ACTIVE")
    url = "rabbit://guest:guest@127.0.0.1:5672/" + cloud.vhost

    def call(args):
        return subprocess.run([os.path.join(BUILD, "rpc-call"), "--transport-url", url,
                               "--exchange", "kumo", "--timeout", "10000", "conductor",
                               "instances_on_host", json.dumps(args)],
                              capture_output=True, text=True, env=cloud.env, timeout=30)

    r = call({"host": "compute1"})
    assert r.returncode == 0, r
    server = cloud.server(sid)
    assert json.loads(r.stdout)["result"] == {"instances": [
        {"uuid": sid, "vm_state": "active", "task_state": "", "power_state": 1,
         "updated_at": server["updated"]}],
        "deleted": []}
    r = call({"host": "compute9"})
    assert json.loads(r.stdout)["result"] == {"instances": [], "deleted": []}
    # Of the uuids a host names, only those deleted in the database come back.
    cloud.delete("/v2.1/servers/%s" % sid)
    cloud.wait_gone(sid)
    unknown = str(uuid.uuid4())
    r = call({"host": "compute1", "uuids": [sid, unknown]})
    assert json.loads(r.stdout)["result"] == {"instances": [], "deleted": [sid]}
    for bad in ({"host": ""}, {"host": 7}, {"host": "h" * 300}, {},
                {"host": "compute1", "uuids": ["not-a-uuid"]},
                {"host": "compute1", "uuids": "x"}):
        r = call(bad)
        assert "InvalidParameterValue" in r.stdout + r.stderr, r
        assert not json.loads(r.stdout)["ok"], r
