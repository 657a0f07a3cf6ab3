"""The conductor's watchdog (scheduler/watch.c): no build or delete waits
forever. The test clouds run with service_down_time = 4 s, so a build that
has not moved for 4 s is looked at within the next round (every 10 s).

- a build message lost on the way to the scheduler (here: purged from its
  queue while no scheduler consumed it) is sent again, and the server
  becomes ACTIVE;
- a build on a compute that died (kill -9, not restarted) ends in ERROR
  with a fault naming the host, instead of BUILD forever; deleting it then
  completes in the database (Nova's local delete);
- a reboot, stop or start whose cast was lost is sent to its compute again;
  one on a dead compute is given up: the task cleared, the action Error.
"""
import os
import sqlite3
import subprocess

from kumocloud import RABBITMQCTL, wait_for
from test_compute_restart import kill9, used_vcpus


def test_lost_build_message_is_sent_again(make_cloud):
    cloud = make_cloud(computes=1)
    image = cloud.create_image()
    conf = cloud.conf_path("controller")
    assert cloud.stop_daemon("scheduler") == 0
    sid = cloud.boot("vm-lost", image)
    # The build_instances cast waits in the scheduler's queue: lose it.
    subprocess.run([RABBITMQCTL, "-q", "purge_queue", "-p", cloud.vhost, "scheduler"],
                   check=True, timeout=60, capture_output=True)
    cloud.start_daemon("scheduler", "kumo-scheduler", conf)
    s = cloud.wait_status(sid, "ACTIVE", timeout=60)
    assert s["OS-EXT-SRV-ATTR:host"] == "compute1"
    text = cloud.daemons["scheduler"].log_text()
    assert "instance %s: scheduling for" % sid in text
    assert "its build is sent again" in text
    assert used_vcpus(cloud) == 1  # claimed once


def test_build_on_a_dead_compute_ends_in_error(make_cloud):
    cloud = make_cloud(computes=1, fake={"spawn_delay_ms": 60000})
    image = cloud.create_image()
    sid = cloud.boot("vm-orphan", image)
    log = cloud.daemons["compute1"].log_path
    wait_for(lambda: "instance %s: spawning" % sid in open(log).read(), 20,
             what="the compute to start spawning")
    kill9(cloud, "compute1")

    # three times service_down_time (4 s) of silence, then the next round
    s = cloud.wait_status(sid, "ERROR", timeout=120)
    assert s["fault"]["message"] == "Build of instance aborted: its compute host is down"
    assert s["OS-EXT-STS:task_state"] is None
    assert s["OS-EXT-SRV-ATTR:host"] == "compute1"
    # Deleting it completes without the compute: the database forgets it
    # and its claim.
    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid, timeout=60)
    wait_for(lambda: used_vcpus(cloud) == 0, 20, what="the claim freed")
    text = cloud.daemons["scheduler"].log_text()
    assert "deleted in the database while kumo-compute on compute1 is down" in text


def lose_a_stop(cloud, sid, request_id):
    """A stop whose cast never left: the task and the action recorded, as
    kumo-api does before it casts (then killed), nothing sent."""
    srv = cloud.server(sid)
    db = sqlite3.connect(os.path.join(cloud.dir, "kumo.db"))
    try:
        with db:
            db.execute("UPDATE instances SET task_state = 'powering-off'"
                       " WHERE uuid = ?", (sid,))
            db.execute("INSERT INTO instance_actions (action, instance_uuid,"
                       " request_id, user_id, project_id, start_time)"
                       " VALUES ('stop', ?, ?, ?, ?, '2026-01-01T00:00:00Z')",
                       (sid, request_id, srv["user_id"], srv["tenant_id"]))
    finally:
        db.close()


def test_lost_action_is_sent_again(make_cloud):
    cloud = make_cloud(computes=1)
    image = cloud.create_image()
    sid = cloud.boot("vm-stop", image)
    cloud.wait_status(sid, "ACTIVE")
    lose_a_stop(cloud, sid, "req-lost-stop")

    s = cloud.wait_status(sid, "SHUTOFF", timeout=60)
    assert s["OS-EXT-STS:task_state"] is None
    text = cloud.daemons["scheduler"].log_text()
    assert "instance %s: powering-off on compute1 for" % sid in text
    assert "the stop is sent there again" in text
    # the compute's report finished the action it belonged to
    act = cloud.get("/v2.1/servers/%s/os-instance-actions/req-lost-stop"
                    % sid).json["instanceAction"]
    assert act["action"] == "stop" and act["message"] is None
    assert [e["result"] for e in act["events"]] == ["Success"]
    assert "instance %s: stop (powering-off)" % sid in \
        cloud.daemons["compute1"].log_text()


def test_action_on_a_dead_compute_is_given_up(make_cloud):
    cloud = make_cloud(computes=1)
    image = cloud.create_image()
    sid = cloud.boot("vm-reboot", image)
    cloud.wait_status(sid, "ACTIVE")
    kill9(cloud, "compute1")
    r = cloud.post("/v2.1/servers/%s/action" % sid, {"reboot": {"type": "HARD"}})
    assert r.status == 202
    req = r.header("x-openstack-request-id")
    assert cloud.server(sid)["OS-EXT-STS:task_state"] == "rebooting_hard"

    # three times service_down_time (4 s) of silence, then the next round
    wait_for(lambda: cloud.server(sid)["OS-EXT-STS:task_state"] is None, 120,
             what="the reboot given up")
    s = cloud.server(sid)
    assert s["status"] == "ACTIVE"   # vm_state stays; no fault, no ERROR
    assert "fault" not in s
    act = cloud.get("/v2.1/servers/%s/os-instance-actions/%s"
                    % (sid, req)).json["instanceAction"]
    assert act["action"] == "reboot" and act["message"] == "Error"
    ev = [e for e in act["events"] if e["event"] == "compute_reboot_instance"]
    assert len(ev) == 1 and ev[0]["result"] == "Error", act["events"]
    assert "kumo-compute on compute1 is down" in \
        cloud.daemons["scheduler"].log_text()
    # the server can be acted on again
    assert cloud.post("/v2.1/servers/%s/action" % sid,
                      {"os-stop": None}).status == 202
