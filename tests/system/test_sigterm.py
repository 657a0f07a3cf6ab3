"""SIGTERM: a daemon stops accepting work, finishes what is in flight, exits 0,
and nothing is lost (work not yet taken stays queued for the next daemon)."""
import time

from kumocloud import wait_for


def test_compute_finishes_in_flight_build_on_sigterm(make_cloud):
    c = make_cloud(computes=1, fake={"spawn_delay_ms": "4000"})
    img = c.create_image()
    sid = c.boot("in-flight", img)
    wait_for(lambda: (c.server(sid) or {}).get("OS-EXT-STS:task_state") == "spawning",
             20, what="the build to reach the compute")
    d = c.daemons["compute1"]
    t0 = time.monotonic()
    rc = c.stop_daemon("compute1")
    took = time.monotonic() - t0
    assert rc == 0, d.log_text()[-2000:]
    # It waited for the spawn (4 s) instead of dropping it.
    assert took > 1.0
    s = c.wait_status(sid, "ACTIVE", timeout=30)
    assert s["OS-EXT-SRV-ATTR:host"] == "compute1"


def test_builds_cast_while_the_scheduler_is_down_are_not_lost(make_cloud):
    c = make_cloud(computes=1)
    img = c.create_image()
    assert c.stop_daemon("scheduler") == 0
    ids = [c.boot("queued-%d" % i, img) for i in range(3)]
    time.sleep(1)
    for sid in ids:
        s = c.server(sid)
        assert s["status"] == "BUILD" and s["OS-EXT-STS:task_state"] == "scheduling"
    c.start_daemon("scheduler", "kumo-scheduler", c.conf_path("controller"))
    for sid in ids:
        c.wait_status(sid, "ACTIVE", timeout=60)


def test_api_sigterm_exits_zero_and_stops_listening(make_cloud):
    c = make_cloud(computes=1)
    assert c.get("/v2.1/flavors").status == 200
    assert c.stop_daemon("api") == 0
    try:
        c.get("/v2.1/flavors", timeout=2)
        listening = True
    except OSError:
        listening = False
    assert not listening
