"""Nothing is lost when a kumo-compute dies with work in flight (Nova's
_init_instance; compute/sync.c's start-up round): the RPC message of an
operation is acked once it ran, so after a kill -9 it is delivered again
to the restarted compute; where it was lost anyway, the database
remembers the task, and the restarted compute finishes it or fails it.

- a build cut short (kill -9 while the fake driver's spawn sleeps, before
  any domain exists): its message comes again and it is built; with the
  message lost too, rescheduled to another host (ERROR "No valid host"
  when there is none); a build that got as far as a domain that is not
  running is ERROR, as Nova does;
- a delete, a stop and a start cut short (the task left in the database
  while the compute was down, the fake's domains persisted): finished.
"""
import os
import sqlite3
import subprocess

from kumocloud import RABBITMQCTL, wait_for
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


def running_vms(cloud):
    hv = cloud.get("/v2.1/os-hypervisors/detail").json["hypervisors"]
    return {h["hypervisor_hostname"]: h["running_vms"] for h in hv}


def used_vcpus(cloud):
    hv = cloud.get("/v2.1/os-hypervisors/detail").json["hypervisors"]
    return sum(h["vcpus_used"] for h in hv)


def queued(cloud, queue):
    out = subprocess.run([RABBITMQCTL, "-q", "list_queues", "-p", cloud.vhost,
                          "name", "messages"], check=True, timeout=60,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == queue:
            return int(f[1])
    return 0


def cut_spawn(cloud, image, lose_message):
    """A build cut short by kill -9 while the fake driver's spawn sleeps
    (before any domain exists); the build message unacked, back in the
    compute's queue, or lost with it (purged)."""
    sid = cloud.boot("vm-cut", image)
    log = cloud.daemons["compute1"].log_path
    wait_for(lambda: "instance %s: spawning" % sid in open(log).read(), 20,
             what="the compute to start spawning")
    s = cloud.server(sid)
    assert (s["status"], s["OS-EXT-STS:task_state"]) == ("BUILD", "spawning")
    kill9(cloud, "compute1")
    # acked only once it ran: the broker puts it back in the queue
    wait_for(lambda: queued(cloud, "compute.compute1") == 1, 20,
             what="the build message back in its queue")
    if lose_message:
        subprocess.run([RABBITMQCTL, "-q", "purge_queue", "-p", cloud.vhost,
                        "compute.compute1"], check=True, timeout=60,
                       capture_output=True)
    return sid


def test_build_cut_short_is_delivered_again(make_cloud):
    cloud = make_cloud(computes=1, fake={"spawn_delay_ms": 60000})
    image = cloud.create_image()
    sid = cut_spawn(cloud, image, lose_message=False)

    cloud.start_compute("compute1", fake={"spawn_delay_ms": 0})
    s = cloud.wait_status(sid, "ACTIVE", timeout=30)
    assert s["OS-EXT-SRV-ATTR:host"] == "compute1"
    wait_for(lambda: running_vms(cloud) == {"compute1": 1}, 20,
             what="one guest, one claim")


def test_build_lost_with_its_compute_is_rescheduled(make_cloud):
    cloud = make_cloud(computes=1, fake={"spawn_delay_ms": 60000})
    image = cloud.create_image()
    sid = cut_spawn(cloud, image, lose_message=True)
    # compute2 builds at once; compute1 restarts with no message left.
    cloud.start_compute("compute2", fake={"spawn_delay_ms": 0})
    wait_for(lambda: "compute2" in running_vms(cloud), 20, what="compute2's report")

    cloud.start_compute("compute1", fake={"spawn_delay_ms": 0})
    s = cloud.wait_status(sid, "ACTIVE", timeout=30)
    assert s["OS-EXT-SRV-ATTR:host"] == "compute2"
    assert "instance %s: its build had not started here when this compute " \
        "restarted: rescheduled" % sid in cloud.daemons["compute1"].log_text()
    assert "rescheduling: kumo-compute on compute1 restarted before the build " \
        "started there" in cloud.daemons["scheduler"].log_text()
    wait_for(lambda: running_vms(cloud) == {"compute1": 0, "compute2": 1}, 20,
             what="one guest, one claim, on compute2")


def test_build_lost_with_no_other_host_ends_in_error(make_cloud):
    cloud = make_cloud(computes=1, fake={"spawn_delay_ms": 60000})
    image = cloud.create_image()
    sid = cut_spawn(cloud, image, lose_message=True)

    cloud.start_compute("compute1", fake={"spawn_delay_ms": 0})
    s = cloud.wait_status(sid, "ERROR", timeout=30)
    assert s["OS-EXT-STS:task_state"] is None
    # The reschedule excluded the host that restarted: none was left.
    assert "No valid host" in s["fault"]["message"], s["fault"]
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
