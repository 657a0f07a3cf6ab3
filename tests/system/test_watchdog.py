"""The conductor's watchdog (scheduler/watch.c): no build or delete waits
forever. The test clouds run with service_down_time = 4 s, so a build that
has not moved for 4 s is looked at within the next round (every 10 s).

- a build message lost on the way to the scheduler (here: purged from its
  queue while no scheduler consumed it) is sent again, and the server
  becomes ACTIVE;
- a build on a compute that died (kill -9, not restarted) ends in ERROR
  with a fault naming the host, instead of BUILD forever; deleting it then
  completes in the database (Nova's local delete).
"""
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
