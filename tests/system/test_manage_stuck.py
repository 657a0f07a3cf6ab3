"""kumo-manage instance list --stuck: what the conductor's watchdog watches
and what it will do, without SQL. A build whose compute was killed -9 and a
build waiting for a stopped scheduler stay in their task; the listing shows
each with its host, whether that host reports, and the watchdog's verdict
(the rules of scheduler/verdict.c, which the watchdog itself follows)."""
from kumocloud import wait_for
from test_compute_restart import kill9


def stuck_rows(cloud):
    r = cloud.manage("instance", "list", "--stuck")
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["Instance", "Task", "Host", "Host", "Unchanged", "Watchdog"]
    rows = {}
    for line in lines[1:]:
        f = line.split(None, 5)
        rows[f[0]] = {"task": f[1], "host": f[2], "host_state": f[3],
                      "unchanged": int(f[4]), "watchdog": line.split(" s  ", 1)[1].strip()}
    return rows


def test_instance_list_stuck(make_cloud):
    cloud = make_cloud(computes=1, fake={"spawn_delay_ms": 60000})
    image = cloud.create_image()
    spawning = cloud.boot("vm-orphan", image)
    wait_for(lambda: "instance %s: spawning" % spawning in
             cloud.daemons["compute1"].log_text(), 20, what="the compute to spawn")
    kill9(cloud, "compute1")
    assert cloud.stop_daemon("scheduler") == 0
    waiting = cloud.boot("vm-waiting", image)

    rows = stuck_rows(cloud)
    assert rows[waiting]["task"] == "scheduling"
    assert rows[waiting]["host"] == "-" and rows[waiting]["host_state"] == "-"
    assert rows[spawning]["task"] == "spawning"
    assert rows[spawning]["host"] == "compute1"

    # service_down_time is 4 s in the test clouds: the verdicts follow.
    def settled():
        rows = stuck_rows(cloud)
        return (rows[waiting]["watchdog"] == "resend the build to the scheduler"
                and rows[spawning]["host_state"] == "down"
                and rows[spawning]["watchdog"] == "ERROR: its host is down")
    wait_for(settled, 90, interval=0.5, what="the verdicts of an idle watchdog")
    rows = stuck_rows(cloud)
    assert rows[spawning]["unchanged"] > 4
    assert set(rows) == {waiting, spawning}

    r = cloud.manage("instance", "list", check=False)
    assert r.returncode == 2
    assert "usage: kumo-manage instance list --stuck" in r.stderr
