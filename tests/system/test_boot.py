"""Boot and delete servers through the real daemons (fake virt driver)."""
import re
import uuid

from kumocloud import wait_for


def hypervisor_vms(cloud):
    r = cloud.get("/v2.1/os-hypervisors/detail")
    assert r.status == 200, r
    return {h["hypervisor_hostname"]: h["running_vms"] for h in r.json["hypervisors"]}


def test_boot_one_and_delete(cloud, image):
    sid = cloud.boot("vm-one", image)
    s = cloud.wait_status(sid, "ACTIVE")
    assert s["name"] == "vm-one"
    assert s["OS-EXT-STS:vm_state"] == "active"
    assert s["OS-EXT-STS:task_state"] is None
    assert s["OS-EXT-STS:power_state"] == 1
    assert s["OS-EXT-SRV-ATTR:host"] in ("compute1", "compute2")
    assert s["image"]["id"] == image
    assert s["flavor"]["id"] == "1"

    r = cloud.delete("/v2.1/servers/%s" % sid)
    assert r.status == 204, r
    cloud.wait_gone(sid)
    r = cloud.delete("/v2.1/servers/%s" % sid)
    assert r.status == 404
    assert r.json["itemNotFound"]["code"] == 404


def test_boot_twenty_spread_and_delete(cloud, image):
    ids = [cloud.boot("vm-%02d" % i, image) for i in range(20)]
    hosts = set()
    for sid in ids:
        hosts.add(cloud.wait_status(sid, "ACTIVE")["OS-EXT-SRV-ATTR:host"])
    # RamWeigher spreads by default: both computes get servers.
    assert hosts == {"compute1", "compute2"}
    r = cloud.get("/v2.1/servers/detail")
    assert r.status == 200
    listed = {s["id"] for s in r.json["servers"]}
    assert set(ids) <= listed
    vms = hypervisor_vms(cloud)
    assert sum(vms.values()) >= 20 and min(vms.values()) > 0

    for sid in ids:
        assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    for sid in ids:
        cloud.wait_gone(sid)
    # Every claim was freed.
    wait_for(lambda: sum(hypervisor_vms(cloud).values()) == 0, 10,
             what="allocations to be freed")


def test_delete_right_after_create(cloud, image):
    sid = cloud.boot("vm-quick-delete", image)
    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid)


def test_capacity_exhausted_goes_to_error_with_fault(make_cloud):
    c = make_cloud(computes=1, fake={"vcpus": 1, "memory_mb": 1024, "local_gb": 10},
                   scheduler_opts={"cpu_allocation_ratio": "1.0"})
    img = c.create_image()
    first = c.boot("fits", img, flavor="1")  # m1.tiny: 1 vCPU, 512 MB, 1 GB
    c.wait_status(first, "ACTIVE")
    second = c.boot("does-not-fit", img, flavor="1")
    s = c.wait_status(second, "ERROR")
    assert "No valid host was found" in s["fault"]["message"]
    assert s["fault"]["code"] == 500
    # Freeing the first makes room again.
    assert c.delete("/v2.1/servers/%s" % first).status == 204
    c.wait_gone(first)
    third = c.boot("fits-again", img, flavor="1")
    c.wait_status(third, "ACTIVE")


def test_failed_spawn_is_rescheduled_elsewhere(make_cloud):
    c = make_cloud(computes=0)
    c.start_compute("bad1", fake={"spawn_fail": "true"})
    c.start_compute("good1")
    c.wait_computes_up(2)
    img = c.create_image()
    ids = [c.boot("resched-%d" % i, img) for i in range(4)]
    for sid in ids:
        s = c.wait_status(sid, "ACTIVE")
        assert s["OS-EXT-SRV-ATTR:host"] == "good1"
    # The bad host really was tried: its log shows failed spawns.
    assert "bad1" in c.logs()["scheduler"] or "spawn" in c.logs()["bad1"].lower()


def test_all_spawns_fail_goes_to_error(make_cloud):
    c = make_cloud(computes=0)
    c.start_compute("bad1", fake={"spawn_fail": "true"})
    c.start_compute("bad2", fake={"spawn_fail": "true"})
    c.wait_computes_up(2)
    img = c.create_image()
    sid = c.boot("doomed", img)
    s = c.wait_status(sid, "ERROR")
    assert s["fault"]["message"]


def test_stopped_compute_is_down_and_gets_nothing(make_cloud):
    c = make_cloud(computes=2)
    img = c.create_image()
    c.stop_daemon("compute2")

    def compute2_down():
        r = c.get("/v2.1/os-services")
        assert r.status == 200, r
        for svc in r.json["services"]:
            if svc["host"] == "compute2" and svc["binary"] == "kumo-compute":
                return svc["state"] == "down"
        return False
    wait_for(compute2_down, 15, what="compute2 to be reported down")
    ids = [c.boot("only-on-1-%d" % i, img) for i in range(4)]
    for sid in ids:
        assert c.wait_status(sid, "ACTIVE")["OS-EXT-SRV-ATTR:host"] == "compute1"


def test_request_id_followed_through_every_daemon(cloud, image):
    rid = "req-" + str(uuid.uuid4())
    r = cloud.post("/v2.1/servers", {"server": {"name": "traced", "imageRef": image,
                                                "flavorRef": "1"}},
                   headers={"X-OpenStack-Request-ID": rid})
    assert r.status == 202, r
    assert r.header("x-openstack-request-id") == rid
    sid = r.json["server"]["id"]
    s = cloud.wait_status(sid, "ACTIVE")
    host = s["OS-EXT-SRV-ATTR:host"]
    logs = cloud.logs()
    assert rid in logs["api"]
    assert rid in logs["scheduler"]
    assert rid in logs[host]
    cloud.delete("/v2.1/servers/%s" % sid)
    cloud.wait_gone(sid)


def test_request_id_not_of_the_form_is_replaced(cloud):
    r = cloud.get("/v2.1/flavors", headers={"X-OpenStack-Request-ID": "evil\tvalue"})
    assert r.status == 200
    rid = r.header("x-openstack-request-id")
    assert re.fullmatch(r"req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", rid)
