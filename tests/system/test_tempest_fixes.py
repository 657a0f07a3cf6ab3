"""Answers tempest found to differ from Nova's (issue 15), each checked here
through the whole stack, not only by the tempest run (tools/tempest)."""
import pytest

from kumocloud import wait_for


def action(cloud, sid, body):
    return cloud.post("/v2.1/servers/%s/action" % sid, body)


@pytest.fixture(scope="module")
def server(cloud, image):
    sid = cloud.boot("vm-tempest-fixes", image)
    cloud.wait_status(sid, "ACTIVE")
    yield sid
    cloud.delete("/v2.1/servers/%s" % sid)
    cloud.wait_gone(sid)


def wait_settled(cloud, sid, status):
    return wait_for(lambda: (lambda s: s if s["status"] == status and
                             s["OS-EXT-STS:task_state"] is None else None)(cloud.server(sid)),
                    20, what="%s with no task" % status)


# Nova reads no schema for os-stop and os-start: tempest sends {}, novaclient
# null, and any other value is taken alike.
@pytest.mark.parametrize("value", [None, {}, {"force": True}, "now"])
def test_stop_start_take_any_body(cloud, server, value):
    r = action(cloud, server, {"os-stop": value})
    assert r.status == 202, r
    wait_settled(cloud, server, "SHUTOFF")
    r = action(cloud, server, {"os-start": value})
    assert r.status == 202, r
    wait_settled(cloud, server, "ACTIVE")


def services(cloud, query):
    r = cloud.get("/v2.1/os-services" + query)
    assert r.status == 200, r
    return r.json["services"]


def test_services_nova_binary_names(cloud):
    """binary=nova-compute selects kumo's computes, and names them as asked
    (tempest compares the two); kumo's own names still work."""
    kumo = services(cloud, "?binary=kumo-compute")
    assert len(kumo) == 2 and {s["binary"] for s in kumo} == {"kumo-compute"}
    nova = services(cloud, "?binary=nova-compute")
    assert sorted(s["host"] for s in nova) == sorted(s["host"] for s in kumo)
    assert {s["binary"] for s in nova} == {"nova-compute"}
    sched = services(cloud, "?binary=nova-scheduler")
    assert [s["binary"] for s in sched] == ["nova-scheduler"]
    both = services(cloud, "?binary=nova-compute&host=%s" % kumo[0]["host"])
    assert [s["host"] for s in both] == [kumo[0]["host"]]
    assert services(cloud, "?binary=nova-xxx") == []
    assert services(cloud, "?binary=xxx") == []
    # an unknown filter is ignored, as Nova does
    assert len(services(cloud, "?xxx=nova-compute")) == len(services(cloud, ""))


def flavor_ids(cloud, query, detail=False):
    r = cloud.get("/v2.1/flavors%s%s" % ("/detail" if detail else "", query))
    assert r.status == 200, r
    return [f["id"] for f in r.json["flavors"]], r.json.get("flavors_links")


@pytest.mark.parametrize("detail", [False, True])
def test_flavors_limit_and_marker(cloud, detail):
    every, links = flavor_ids(cloud, "", detail)
    assert every == sorted(every) and len(every) >= 5 and links is None
    page, links = flavor_ids(cloud, "?limit=2", detail)
    assert page == every[:2]
    assert len(links) == 1 and links[0]["rel"] == "next"
    assert links[0]["href"].endswith("/v2.1/flavors%s?limit=2&marker=%s" % (
        "/detail" if detail else "", every[1]))
    page, _ = flavor_ids(cloud, "?marker=%s" % every[0], detail)
    assert page == every[1:]
    page, links = flavor_ids(cloud, "?limit=2&marker=%s" % every[1], detail)
    assert page == every[2:4]
    page, links = flavor_ids(cloud, "?marker=%s" % every[-1], detail)
    assert page == [] and links is None
    page, _ = flavor_ids(cloud, "?limit=0", detail)
    assert page == []


@pytest.mark.parametrize("query,message", [
    ("?limit=x", "limit param must be an integer"),
    ("?limit=-1", "limit param must be positive"),
    ("?marker=no-such-flavor", "Marker no-such-flavor could not be found."),
])
def test_flavors_paging_errors(cloud, query, message):
    r = cloud.get("/v2.1/flavors" + query)
    assert r.status == 400, r
    assert r.json["badRequest"]["message"] == message


# os-hosts (admin, up to 2.42): the hosts of the enabled services, a compute
# host's resources; update and the power actions check the body and the
# host as Nova does, then answer 501 (no kumo driver has them).
def test_os_hosts_list_and_zone(cloud):
    r = cloud.get("/v2.1/os-hosts")
    assert r.status == 200, r
    hosts = r.json["hosts"]
    computes = sorted(h["host_name"] for h in hosts if h["service"] == "compute")
    assert computes == ["compute1", "compute2"]
    assert {h["zone"] for h in hosts if h["service"] == "compute"} == {"nova"}
    assert {(h["service"], h["zone"]) for h in hosts if h["service"] != "compute"} == {
        ("scheduler", "internal"), ("conductor", "internal")}
    assert set(hosts[0]) == {"host_name", "service", "zone"}
    r = cloud.get("/v2.1/os-hosts?zone=nova")
    assert sorted(h["host_name"] for h in r.json["hosts"]) == computes
    assert len(cloud.get("/v2.1/os-hosts?zone=").json["hosts"]) == len(hosts)
    assert cloud.get("/v2.1/os-hosts?zone=xxx").json["hosts"] == []
    r = cloud.get("/v2.1/os-hosts", headers={"X-OpenStack-Nova-API-Version": "2.43"})
    assert r.status == 404, r
    assert cloud.get("/v2.1/os-hosts", token="demo:demo").status == 403


def test_os_hosts_show(cloud, server):
    r = cloud.get("/v2.1/os-hosts/nowhere")
    assert r.status == 404, r
    assert r.json["itemNotFound"]["message"] == "Compute host nowhere could not be found."
    host = cloud.get("/v2.1/servers/%s" % server).json["server"]["OS-EXT-SRV-ATTR:host"]
    r = cloud.get("/v2.1/os-hosts/%s" % host)
    assert r.status == 200, r
    rows = [x["resource"] for x in r.json["host"]]
    assert [x["project"] for x in rows[:3]] == ["(total)", "(used_now)", "(used_max)"]
    assert all(x["host"] == host for x in rows)
    assert rows[0]["cpu"] > 0 and rows[0]["memory_mb"] > 0
    # the module's server (m1.tiny: 1 vcpu, 512 MB, 1 GB) in the admin's project
    assert rows[2]["cpu"] >= 1 and rows[2]["memory_mb"] >= 512
    assert len(rows) == 4 and rows[3]["cpu"] == rows[2]["cpu"]


@pytest.mark.parametrize("body,status,fragment", [
    ({"status": None, "maintenance_mode": None}, 400, "None is not of type 'string'"),
    ({"status": "invalid", "maintenance_mode": "enable"}, 400,
     "'invalid' is not one of ['enable', 'disable'"),
    ({"status": "enable", "maintenance_mode": "invalid"}, 400, "maintenance_mode"),
    ({"status": "enable", "x": 1}, 400, "Additional properties are not allowed"),
    ({"status": "enable"}, 501, ""),
    ({"maintenance_mode": "DISABLE"}, 501, ""),
])
def test_os_hosts_update(cloud, body, status, fragment):
    r = cloud.request("PUT", "/v2.1/os-hosts/compute1", body=body)
    assert r.status == status, r
    assert fragment in r.raw.decode()


def test_os_hosts_update_and_power_unknown_host(cloud):
    r = cloud.request("PUT", "/v2.1/os-hosts/nowhere", body={"status": "enable"})
    assert r.status == 404, r
    assert r.json["itemNotFound"]["message"] == "Host nowhere could not be found."
    for act in ("startup", "shutdown", "reboot"):
        r = cloud.get("/v2.1/os-hosts/nowhere/%s" % act)
        assert r.status == 404, r
        assert cloud.get("/v2.1/os-hosts/compute1/%s" % act).status == 501
        assert cloud.get("/v2.1/os-hosts/compute1/%s" % act, token="demo:demo").status == 403


def test_hypervisor_statistics(cloud, server):
    r = cloud.get("/v2.1/os-hypervisors/statistics")
    assert r.status == 200, r
    stats = r.json["hypervisor_statistics"]
    nodes = cloud.get("/v2.1/os-hypervisors/detail").json["hypervisors"]
    assert stats["count"] == len(nodes) == 2
    for key in ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used",
                "local_gb_used", "free_ram_mb", "free_disk_gb", "running_vms"):
        assert stats[key] == sum(n[key] for n in nodes), key
    assert stats["running_vms"] >= 1 and "cpu_info" not in stats
    r = cloud.get("/v2.1/os-hypervisors/statistics",
                  headers={"X-OpenStack-Nova-API-Version": "2.88"})
    assert r.status == 404, r
    assert cloud.get("/v2.1/os-hypervisors/statistics", token="demo:demo").status == 403


def test_hypervisor_search_and_servers(cloud, server):
    host = cloud.get("/v2.1/servers/%s" % server).json["server"][
        "OS-EXT-SRV-ATTR:hypervisor_hostname"]
    r = cloud.get("/v2.1/os-hypervisors/compute/search")
    assert r.status == 200, r
    assert sorted(h["hypervisor_hostname"] for h in r.json["hypervisors"]) == [
        "compute1", "compute2"]
    assert set(r.json["hypervisors"][0]) == {"id", "hypervisor_hostname", "state", "status"}
    r = cloud.get("/v2.1/os-hypervisors/%s/servers" % host)
    assert r.status == 200, r
    [h] = r.json["hypervisors"]
    assert {"uuid": server, "name": "vm-tempest-fixes"} in h["servers"]
    for what in ("search", "servers"):
        r = cloud.get("/v2.1/os-hypervisors/nowhere/%s" % what)
        assert r.status == 404, r
        assert r.json["itemNotFound"]["message"] == \
            "No hypervisor matching 'nowhere' could be found."
        r = cloud.get("/v2.1/os-hypervisors/compute/%s" % what,
                      headers={"X-OpenStack-Nova-API-Version": "2.53"})
        assert r.status == 404, r
        assert cloud.get("/v2.1/os-hypervisors/compute/%s" % what,
                         token="demo:demo").status == 403


def test_instance_usage_audit_log(cloud):
    """No audit task runs (Nova's instance_usage_audit = false): every
    compute is "not run" for the last completed month."""
    r = cloud.get("/v2.1/os-instance_usage_audit_log")
    assert r.status == 200, r
    log = r.json["instance_usage_audit_logs"]
    assert sorted(log["hosts_not_run"]) == ["compute1", "compute2"]
    assert (log["num_hosts"], log["num_hosts_done"], log["num_hosts_not_run"],
            log["num_hosts_running"], log["total_errors"], log["total_instances"],
            log["log"]) == (2, 0, 2, 0, 0, 0, {})
    assert log["overall_status"] == "0 of 2 hosts done. 0 errors."
    assert log["period_ending"].endswith("-01 00:00:00")
    r = cloud.get("/v2.1/os-instance_usage_audit_log/2026-03-15%2010:00:00.123")
    assert r.status == 200, r
    log = r.json["instance_usage_audit_log"]
    assert (log["period_beginning"], log["period_ending"]) == (
        "2026-02-01 00:00:00", "2026-03-01 00:00:00")
    r = cloud.get("/v2.1/os-instance_usage_audit_log/2026-01-02%2003:04:05")
    assert r.json["instance_usage_audit_log"]["period_beginning"] == "2025-12-01 00:00:00"
    r = cloud.get("/v2.1/os-instance_usage_audit_log/invalid_time")
    assert r.status == 400, r
    assert r.json["badRequest"]["message"] == "Invalid timestamp for date invalid_time"
    assert cloud.get("/v2.1/os-instance_usage_audit_log", token="demo:demo").status == 403


def test_migrations_none(cloud):
    r = cloud.get("/v2.1/os-migrations")
    assert r.status == 200 and r.json == {"migrations": []}, r
    assert cloud.get("/v2.1/os-migrations", token="demo:demo").status == 403


def test_server_password(cloud, server):
    path = "/v2.1/servers/%s/os-server-password" % server
    r = cloud.get(path)
    assert r.status == 200 and r.json == {"password": ""}, r
    assert cloud.delete(path).status == 204
    missing = "/v2.1/servers/7c0f6d4c-0000-4000-8000-000000000000/os-server-password"
    assert cloud.get(missing).status == 404
    assert cloud.delete(missing).status == 404
    # another project's server is not found
    assert cloud.get(path, token="demo:demo").status == 404


def usage_window(days=1):
    import datetime
    now = datetime.datetime.utcnow()
    fmt = "%Y-%m-%dT%H:%M:%S.%f"
    return ((now - datetime.timedelta(days=days)).strftime(fmt),
            (now + datetime.timedelta(days=days)).strftime(fmt))


def test_simple_tenant_usage(cloud, server):
    start, end = usage_window()
    project = cloud.get("/v2.1/servers/%s" % server).json["server"]["tenant_id"]
    r = cloud.get("/v2.1/os-simple-tenant-usage?start=%s&end=%s&detailed=1" % (start, end))
    assert r.status == 200, r
    [usage] = [u for u in r.json["tenant_usages"] if u["tenant_id"] == project]
    assert set(usage) == {"tenant_id", "server_usages", "start", "stop", "total_hours",
                          "total_local_gb_usage", "total_memory_mb_usage",
                          "total_vcpus_usage"}
    assert usage["start"] == start and usage["stop"] == end
    [mine] = [s for s in usage["server_usages"] if s["instance_id"] == server]
    assert (mine["name"], mine["flavor"], mine["state"], mine["ended_at"]) == (
        "vm-tempest-fixes", "m1.tiny", "active", None)
    assert (mine["vcpus"], mine["memory_mb"], mine["local_gb"]) == (1, 512, 1)
    # launched within the window: its hours run from launch to the window's end
    assert 23.9 < mine["hours"] < 24.01 and mine["uptime"] >= 0
    assert abs(usage["total_memory_mb_usage"] -
               sum(s["hours"] * s["memory_mb"] for s in usage["server_usages"])) < 1e-6
    r = cloud.get("/v2.1/os-simple-tenant-usage?start=%s&end=%s" % (start, end))
    assert all("server_usages" not in u for u in r.json["tenant_usages"])
    r = cloud.get("/v2.1/os-simple-tenant-usage/%s?start=%s&end=%s" % (project, start, end))
    assert r.status == 200 and r.json["tenant_usage"]["tenant_id"] == project, r
    assert any(s["instance_id"] == server for s in r.json["tenant_usage"]["server_usages"])
    # a window that ended before the server was launched
    r = cloud.get("/v2.1/os-simple-tenant-usage/%s?start=2020-01-01T00:00:00"
                  "&end=2020-02-01T00:00:00" % project)
    assert r.status == 200 and r.json == {"tenant_usage": {}}, r


def test_simple_tenant_usage_errors(cloud):
    start, end = usage_window()
    r = cloud.get("/v2.1/os-simple-tenant-usage?start=%s&end=%s" % (end, start))
    assert r.status == 400, r
    assert r.json["badRequest"]["message"] == \
        "Invalid start time. The start time cannot occur after the end time."
    r = cloud.get("/v2.1/os-simple-tenant-usage?start=yesterday")
    assert r.status == 400 and r.json["badRequest"]["message"] == \
        "Datetime is in invalid format", r
    assert cloud.get("/v2.1/os-simple-tenant-usage/?start=%s&end=%s" % (start, end)).status == 404
    assert cloud.get("/v2.1/os-simple-tenant-usage", token="demo:demo").status == 403
    # a member reads its own project's usage, not another's
    assert cloud.get("/v2.1/os-simple-tenant-usage/demo", token="demo:demo").status == 200
    assert cloud.get("/v2.1/os-simple-tenant-usage/admin", token="demo:demo").status == 403


def test_update_server(cloud, image):
    sid = cloud.boot("vm-update", image)
    cloud.wait_status(sid, "ACTIVE")
    try:
        r = cloud.request("PUT", "/v2.1/servers/%s" % sid, body={"server": {
            "name": "vm-renamed", "accessIPv4": "1.1.1.1", "accessIPv6": "::babe:202:202"}})
        assert r.status == 200, r
        srv = r.json["server"]
        assert (srv["id"], srv["name"], srv["accessIPv4"], srv["accessIPv6"]) == (
            sid, "vm-renamed", "1.1.1.1", "::babe:202:202")
        # Nova's update view before 2.75: no extended attributes
        assert not [k for k in srv if k.startswith("OS-EXT-") or k.startswith("OS-SRV-USG")]
        assert "key_name" not in srv and "config_drive" not in srv
        shown = cloud.server(sid)
        assert (shown["name"], shown["accessIPv4"]) == ("vm-renamed", "1.1.1.1")
        assert "OS-EXT-STS:vm_state" in shown
        # one address alone leaves the other; from 2.75 the answer is GET's
        r = cloud.request("PUT", "/v2.1/servers/%s" % sid,
                          body={"server": {"accessIPv4": "10.0.0.9"}},
                          headers={"X-OpenStack-Nova-API-Version": "2.75"})
        assert r.status == 200, r
        assert (r.json["server"]["accessIPv4"], r.json["server"]["accessIPv6"]) == (
            "10.0.0.9", "::babe:202:202")
        assert "OS-EXT-STS:vm_state" in r.json["server"]
        # another project's server is not found
        r = cloud.request("PUT", "/v2.1/servers/%s" % sid, token="demo:demo",
                          body={"server": {"name": "x"}})
        assert r.status == 404, r
    finally:
        cloud.delete("/v2.1/servers/%s" % sid)
        cloud.wait_gone(sid)


@pytest.mark.parametrize("body,fragment", [
    ({"server": {"name": ""}}, "name"),
    ({"server": {"name": "a" * 256}}, "name"),
    ({"server": {"accessIPv4": "1.1.1"}}, "is not a 'ipv4'"),
    ({"server": {"accessIPv6": "1.1.1.1"}}, "is not a 'ipv6'"),
    ({"server": {"description": "d"}}, "Additional properties are not allowed"),
    ({"name": "x"}, "'server' is a required property"),
    ({"server": "x"}, "is not of type 'object'"),
])
def test_update_server_bad_bodies(cloud, server, body, fragment):
    r = cloud.request("PUT", "/v2.1/servers/%s" % server, body=body)
    assert r.status == 400, r
    assert fragment in r.json["badRequest"]["message"], r


def test_update_missing_server(cloud):
    r = cloud.request("PUT", "/v2.1/servers/7c0f6d4c-0000-4000-8000-000000000000",
                      body={"server": {"name": "x"}})
    assert r.status == 404, r


def test_reset_state(cloud, image):
    sid = cloud.boot("vm-reset", image)
    cloud.wait_status(sid, "ACTIVE")
    try:
        r = action(cloud, sid, {"os-resetState": {"state": "error"}})
        assert r.status == 202, r
        s = cloud.server(sid)
        assert (s["status"], s["OS-EXT-STS:vm_state"], s["OS-EXT-STS:task_state"]) == (
            "ERROR", "error", None)
        r = cloud.get("/v2.1/servers/%s/os-instance-actions" % sid)
        assert "resetState" in [x["action"] for x in r.json["instanceActions"]]
        r = action(cloud, sid, {"os-resetState": {"state": "active"}})
        assert r.status == 202, r
        assert cloud.server(sid)["status"] == "ACTIVE"
        # a server reset to error deletes as any other
        assert action(cloud, sid, {"os-resetState": {"state": "error"}}).status == 202
    finally:
        assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
        cloud.wait_gone(sid)


@pytest.mark.parametrize("body,fragment", [
    ({"os-resetState": {"state": "shelved"}}, "'shelved' is not one of ['active', 'error']"),
    ({"os-resetState": {}}, "'state' is a required property"),
    ({"os-resetState": {"state": "error", "x": 1}}, "Additional properties are not allowed"),
    ({"os-resetState": None}, "is not of type 'object'"),
])
def test_reset_state_bad_bodies(cloud, server, body, fragment):
    r = action(cloud, server, body)
    assert r.status == 400, r
    assert fragment in r.json["badRequest"]["message"], r


def test_reset_state_admin_only(cloud):
    # a member's own server: the policy refuses before anything changes
    img = cloud.create_image("reset-img", visibility="public")
    r = cloud.post("/v2.1/servers", {"server": {"name": "demo-vm", "imageRef": img,
                                                "flavorRef": "1"}}, token="demo:demo")
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    try:
        cloud.wait_status(sid, "ACTIVE")
        r = cloud.post("/v2.1/servers/%s/action" % sid, {"os-resetState": {"state": "error"}},
                       token="demo:demo")
        assert r.status == 403, r
        assert cloud.server(sid)["status"] == "ACTIVE"
    finally:
        cloud.delete("/v2.1/servers/%s" % sid)
        cloud.wait_gone(sid)


def test_list_all_tenants_by_project(cloud, server):
    """tenant_id (or project_id) picks a project with all_tenants, and is
    ignored without it, as Nova does."""
    img = cloud.create_image("proj-img", visibility="public")
    r = cloud.post("/v2.1/servers", {"server": {"name": "demo-listed", "imageRef": img,
                                                "flavorRef": "1"}}, token="demo:demo")
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    try:
        def names(query):
            r = cloud.get("/v2.1/servers/detail" + query)
            assert r.status == 200, r
            return {s["name"] for s in r.json["servers"]}
        assert "demo-listed" not in names("?tenant_id=demo")
        assert "vm-tempest-fixes" in names("?tenant_id=demo")
        for key in ("tenant_id", "project_id"):
            got = names("?all_tenants=&%s=demo" % key)
            assert "demo-listed" in got and "vm-tempest-fixes" not in got, got
        assert {"demo-listed", "vm-tempest-fixes"} <= names("?all_tenants=1")
    finally:
        cloud.delete("/v2.1/servers/%s" % sid)
        cloud.wait_gone(sid)


def test_create_echoes_admin_pass(cloud, image):
    r = cloud.post("/v2.1/servers", {"server": {"name": "vm-pass", "imageRef": image,
                                                "flavorRef": "1", "adminPass": "testpassword"}})
    assert r.status == 202, r
    assert r.json["server"]["adminPass"] == "testpassword"
    sid = r.json["server"]["id"]
    r = cloud.post("/v2.1/servers", {"server": {"name": "vm-pass2", "imageRef": image,
                                                "flavorRef": "1"}})
    assert r.status == 202 and len(r.json["server"]["adminPass"]) == 12, r
    sid2 = r.json["server"]["id"]
    r = cloud.post("/v2.1/servers", {"server": {"name": "vm-pass3", "imageRef": image,
                                                "flavorRef": "1", "adminPass": 12}})
    assert r.status == 400 and "12 is not of type 'string'" in r.json["badRequest"]["message"], r
    for s in (sid, sid2):
        cloud.wait_status(s, "ACTIVE")
        cloud.delete("/v2.1/servers/%s" % s)
        cloud.wait_gone(s)


def test_create_metadata_items_quota(cloud, image):
    """More metadata items than the project's metadata_items quota: 403."""
    limit = cloud.get("/v2.1/limits").json["limits"]["absolute"]["maxServerMeta"]
    assert limit == 128
    meta = {"k%d" % i: "v" for i in range(limit + 1)}
    r = cloud.post("/v2.1/servers", {"server": {"name": "vm-meta", "imageRef": image,
                                                "flavorRef": "1", "metadata": meta}})
    assert r.status == 403, r
    assert r.json["forbidden"]["message"] == "Maximum number of metadata items exceeds 128"
    r = cloud.get("/v2.1/servers?name=vm-meta")
    assert r.json["servers"] == []


@pytest.mark.parametrize("groups,status,fragment", [
    ([{"name": "does_not_exist"}], 400, "Security group does_not_exist not found."),
    ([{"name": "default"}, {"name": "web"}], 400, "Security group web not found."),
    ("default", 400, "is not of type 'array'"),
    ([{"name": "default", "x": 1}], 400, "Additional properties are not allowed"),
    ([{"name": ""}], 400, "is not a valid security group name"),
])
def test_create_security_groups(cloud, image, groups, status, fragment):
    r = cloud.post("/v2.1/servers", {"server": {"name": "vm-sg", "imageRef": image,
                                                "flavorRef": "1", "security_groups": groups}})
    assert r.status == status, r
    assert fragment in r.json["badRequest"]["message"], r


def test_create_default_security_group(cloud, image):
    r = cloud.post("/v2.1/servers", {"server": {"name": "vm-sg-default", "imageRef": image,
                                                "flavorRef": "1",
                                                "security_groups": [{"name": "default"}]}})
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    cloud.wait_status(sid, "ACTIVE")
    cloud.delete("/v2.1/servers/%s" % sid)
    cloud.wait_gone(sid)
