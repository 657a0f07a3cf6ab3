"""Nothing is lost when a kumo-compute dies with work in flight (Nova's
_init_instance; compute/sync.c's start-up round): the RPC message of an
operation is acked when it arrives, so after a kill -9 only the database
remembers the task, and the restarted compute finishes it or fails it.

- a build cut short (kill -9 while the fake driver's spawn sleeps): ERROR
  with a fault naming the restart, as Nova does; the instance can then be
  deleted and its claim is freed;
- a delete, a stop and a start cut short (the task left in the database
  while the compute was down, the fake's domains persisted): finished.
"""
import os
import sqlite3

from kumocloud import wait_for
from test_reconcile import fake_domains


def kill9(cloud, host):
    d = cloud.daemons.pop(host)
    d.proc.kill()
    d.proc.wait()
    d.log.close()
    return d


def set_task(cloud, sid, task, vm_state=None):
    """Leaves a task in the database, as an operation whose compute died."""
    db = sqlite3.connect(os.path.join(cloud.dir, "kumo.db"))
    try:
        with db:
            db.execute("UPDATE instances SET task_state = ? WHERE uuid = ?", (task, sid))
            if vm_state:
                db.execute("UPDATE instances SET vm_state = ? WHERE uuid = ?",
                           (vm_state, sid))
    finally:
        db.close()


def used_vcpus(cloud):
    hv = cloud.get("/v2.1/os-hypervisors/detail").json["hypervisors"]
    return sum(h["vcpus_used"] for h in hv)


def test_build_cut_short_by_kill9_ends_in_error(make_cloud):
    cloud = make_cloud(computes=1, fake={"spawn_delay_ms": 60000})
    image = cloud.create_image()
    sid = cloud.boot("vm-cut", image)
    log = cloud.daemons["compute1"].log_path
    wait_for(lambda: "instance %s: spawning" % sid in open(log).read(), 20,
             what="the compute to start spawning")
    s = cloud.server(sid)
    assert (s["status"], s["OS-EXT-STS:task_state"]) == ("BUILD", "spawning")
    kill9(cloud, "compute1")

    cloud.start_compute("compute1", fake={"spawn_delay_ms": 0})
    s = cloud.wait_status(sid, "ERROR", timeout=30)
    assert s["OS-EXT-STS:task_state"] is None
    assert "kumo-compute on compute1 restarted while the instance was building" \
        in s["fault"]["message"], s["fault"]
    text = cloud.daemons["compute1"].log_text()
    assert "instance %s: its build was cut short by a restart" % sid in text
    # The instance keeps its host (and claim) until it is deleted, as in Nova.
    assert s["OS-EXT-SRV-ATTR:host"] == "compute1"
    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid)
    wait_for(lambda: used_vcpus(cloud) == 0, 20, what="the claim freed")
    # The restarted compute builds again.
    sid2 = cloud.boot("vm-after", image)
    assert cloud.wait_status(sid2, "ACTIVE")["OS-EXT-SRV-ATTR:host"] == "compute1"


def test_tasks_cut_short_are_finished(make_cloud):
    cloud = make_cloud(computes=1, fake={"persist": "true"})
    image = cloud.create_image()
    deleting = cloud.boot("vm-deleting", image)
    stopping = cloud.boot("vm-stopping", image)
    starting = cloud.boot("vm-starting", image)
    for sid in (deleting, stopping, starting):
        cloud.wait_status(sid, "ACTIVE")
    r = cloud.post("/v2.1/servers/%s/action" % starting, {"os-stop": None})
    assert r.status == 202, r
    cloud.wait_status(starting, "SHUTOFF")

    kill9(cloud, "compute1")
    set_task(cloud, deleting, "deleting")
    set_task(cloud, stopping, "powering-off")
    set_task(cloud, starting, "powering-on")
    cloud.start_compute("compute1")

    cloud.wait_gone(deleting)
    wait_for(lambda: deleting not in fake_domains(cloud), 20, what="the domain destroyed")
    s = cloud.wait_status(stopping, "SHUTOFF")
    assert (s["OS-EXT-STS:task_state"], s["OS-EXT-STS:power_state"]) == (None, 4)
    s = cloud.wait_status(starting, "ACTIVE")
    assert (s["OS-EXT-STS:task_state"], s["OS-EXT-STS:power_state"]) == (None, 1)
    text = cloud.daemons["compute1"].log_text()
    assert "instance %s: its delete was cut short by a restart: done" % deleting in text
    assert "instance %s: its stop was cut short by a restart: stopped now" % stopping in text
    assert "instance %s: its start was cut short by a restart: active now" % starting in text
    assert fake_domains(cloud) == sorted([stopping, starting])
