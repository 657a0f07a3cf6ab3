"""Fixed IPs on flat networks and what a create gives the guest, through the
real API, scheduler and a fake compute: addresses in the views, /ips,
os-networks, the networks forms and their 400s, exhaustion, freeing, and no
address given twice under concurrent creates."""
import base64
import concurrent.futures
import ipaddress

import pytest

from kumocloud import wait_for

SMALL = {"network": {"name": "tiny", "cidr": "10.98.7.0/29"}}  # .2 .. .6


def nets(cloud):
    r = cloud.get("/v2.1/os-networks")
    assert r.status == 200, r
    return r.json["networks"]


def addrs(server):
    return [a for lst in server["addresses"].values() for a in lst]


@pytest.fixture(scope="module")
def small():
    from kumocloud import Cloud
    c = Cloud(computes=1, extra_conf=SMALL).start()
    yield c
    c.stop()


def test_default_network_and_addresses(cloud, image):
    n = nets(cloud)
    assert [x["label"] for x in n] == ["private"]
    assert n[0]["cidr"] == "10.99.0.0/24" and n[0]["gateway"] == "10.99.0.1"
    assert n[0]["netmask"] == "255.255.255.0" and n[0]["dns1"] == "10.99.0.1"
    r = cloud.get("/v2.1/os-networks/%s" % n[0]["id"])
    assert r.status == 200 and r.json["network"]["label"] == "private"
    assert cloud.get("/v2.1/os-networks/private").status == 404
    assert cloud.get("/v2.1/os-networks/%s" % ("0" * 8 + "-0000-4000-8000-" + "0" * 12)).status == 404

    sid = cloud.boot("net-a", image)
    s = cloud.wait_status(sid, "ACTIVE")
    a = s["addresses"]["private"]
    assert len(a) == 1 and a[0]["version"] == 4 and a[0]["OS-EXT-IPS:type"] == "fixed"
    assert ipaddress.ip_address(a[0]["addr"]) in ipaddress.ip_network("10.99.0.0/24")
    assert a[0]["addr"] != "10.99.0.1"
    assert a[0]["OS-EXT-IPS-MAC:mac_addr"].startswith("fa:16:3e:")
    r = cloud.get("/v2.1/servers/%s/ips" % sid)
    assert r.status == 200
    assert r.json == {"addresses": {"private": [{"version": 4, "addr": a[0]["addr"]}]}}
    r = cloud.get("/v2.1/servers/%s/ips/private" % sid)
    assert r.status == 200 and r.json == {"private": [{"version": 4, "addr": a[0]["addr"]}]}
    r = cloud.get("/v2.1/servers/%s/ips/other" % sid)
    assert r.status == 404 and "not a member" in r.json["itemNotFound"]["message"]
    # another project sees neither the server nor its addresses
    assert cloud.get("/v2.1/servers/%s/ips" % sid, token="bob:other").status == 404
    d = cloud.get("/v2.1/servers/detail").json["servers"]
    assert [addrs(x) for x in d if x["id"] == sid] == [a]
    cloud.delete("/v2.1/servers/%s" % sid)
    cloud.wait_gone(sid)


def test_guest_fields_kept(cloud, image):
    ud = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    sid = cloud.boot("Guest_One.example", image, user_data=ud, config_drive=True,
                     metadata={"role": "web", "empty": ""}, accessIPv4="192.0.2.7",
                     accessIPv6="2001:DB8:0::1")
    s = cloud.wait_status(sid, "ACTIVE")
    assert s["accessIPv4"] == "192.0.2.7" and s["accessIPv6"] == "2001:db8::1"
    assert s["config_drive"] == "True"
    assert s["metadata"] == {"role": "web", "empty": ""}
    r = cloud.get("/v2.1/servers/%s" % sid, headers={"OpenStack-API-Version": "compute 2.3"})
    srv = r.json["server"]
    assert srv["OS-EXT-SRV-ATTR:user_data"] == ud
    assert srv["OS-EXT-SRV-ATTR:hostname"] == "guest-one-example"
    sid2 = cloud.boot("h", image)
    r = cloud.get("/v2.1/servers/%s" % sid2, headers={"OpenStack-API-Version": "compute 2.3"})
    assert r.json["server"]["config_drive"] == ""
    assert r.json["server"]["OS-EXT-SRV-ATTR:user_data"] is None
    body = {"server": {"name": "x", "imageRef": image, "flavorRef": "1",
                       "hostname": "My.Host_1", "networks": "auto"}}
    r = cloud.post("/v2.1/servers", body, headers={"OpenStack-API-Version": "compute 2.90"})
    assert r.status == 202, r
    sid3 = r.json["server"]["id"]
    r = cloud.get("/v2.1/servers/%s" % sid3, headers={"OpenStack-API-Version": "compute 2.90"})
    assert r.json["server"]["OS-EXT-SRV-ATTR:hostname"] == "my-host-1"
    for x in (sid, sid2, sid3):
        cloud.delete("/v2.1/servers/%s" % x)


def bad_create(cloud, image, mv="2.1", **extra):
    server = {"name": "bad", "imageRef": image, "flavorRef": "1"}
    server.update(extra)
    r = cloud.post("/v2.1/servers", {"server": server},
                   headers={"OpenStack-API-Version": "compute " + mv})
    assert r.status == 400, r
    return r.json["badRequest"]["message"]


def test_bad_guest_input(cloud, image):
    net = nets(cloud)[0]["id"]
    assert "is not a 'base64'" in bad_create(cloud, image, user_data="!!notbase64")
    assert "is too long" in bad_create(cloud, image, user_data="A" * 65536)
    assert "user_data" in bad_create(cloud, image, user_data=5)
    assert "config_drive" in bad_create(cloud, image, config_drive="maybe")
    assert "is not a 'ipv4'" in bad_create(cloud, image, accessIPv4="1.2.3")
    assert "is not a 'ipv6'" in bad_create(cloud, image, accessIPv6="1.2.3.4")
    assert "hostname" in bad_create(cloud, image, mv="2.90", hostname="a/b")
    assert "Additional properties" in bad_create(cloud, image, hostname="a")
    m = bad_create(cloud, image, networks=[{"uuid": "0" * 8 + "-0000-4000-8000-" + "0" * 12}])
    assert "could not be found" in m
    assert "could not be found" in bad_create(cloud, image, networks=[{"uuid": "nope"}])
    assert "fixed_ip" in bad_create(cloud, image, networks=[{"uuid": net, "fixed_ip": "10.99.0.300"}])
    assert "does not exist in network" in bad_create(
        cloud, image, networks=[{"uuid": net, "fixed_ip": "10.99.0.1"}])
    assert "not in any network" in bad_create(cloud, image, networks=[{"fixed_ip": "192.0.2.5"}])
    assert "Port" in bad_create(cloud, image, networks=[{"port": "0" * 8 + "-0000-4000-8000-" + "0" * 12}])
    assert "max_count" in bad_create(cloud, image, max_count=2,
                                     networks=[{"uuid": net, "fixed_ip": "10.99.0.77"}])
    assert "Additional properties" in bad_create(cloud, image, networks=[{"uuid": net, "x": 1}])
    assert "is not of type 'array'" in bad_create(cloud, image, networks="auto")
    assert "valid under any" in bad_create(cloud, image, mv="2.37", networks="some")


def test_networks_forms(cloud, image):
    net = nets(cloud)[0]["id"]
    h = {"OpenStack-API-Version": "compute 2.37"}
    r = cloud.post("/v2.1/servers", {"server": {"name": "none", "imageRef": image,
                                                "flavorRef": "1", "networks": "none"}}, headers=h)
    assert r.status == 202
    none_id = r.json["server"]["id"]
    s = cloud.wait_status(none_id, "ACTIVE")
    assert s["addresses"] == {}
    fixed = cloud.boot("fixed", image, networks=[{"uuid": net, "fixed_ip": "10.99.0.200"}])
    s = cloud.wait_status(fixed, "ACTIVE")
    assert [a["addr"] for a in addrs(s)] == ["10.99.0.200"]
    by_ip = cloud.boot("by-ip", image, networks=[{"fixed_ip": "10.99.0.201"}, {"uuid": net}])
    s = cloud.wait_status(by_ip, "ACTIVE")
    got = [a["addr"] for a in s["addresses"]["private"]]
    assert got[0] == "10.99.0.201" and len(got) == 2
    # the address held by "fixed": the build fails with Nova's words
    clash = cloud.boot("clash", image, networks=[{"uuid": net, "fixed_ip": "10.99.0.200"}])
    s = cloud.wait_status(clash, "ERROR")
    assert "already in use" in s["fault"]["message"]
    assert s["addresses"] == {}
    for x in (none_id, fixed, by_ip, clash):
        cloud.delete("/v2.1/servers/%s" % x)
    for x in (none_id, fixed, by_ip, clash):
        cloud.wait_gone(x)
    # freed: the address can be asked for again
    again = cloud.boot("again", image, networks=[{"uuid": net, "fixed_ip": "10.99.0.200"}])
    cloud.wait_status(again, "ACTIVE")
    cloud.delete("/v2.1/servers/%s" % again)
    cloud.wait_gone(again)


def test_exhaustion_and_reuse(small):
    c = small
    img = c.create_image()
    n = nets(c)
    assert [x["label"] for x in n] == ["tiny"] and n[0]["dhcp_start"] == "10.98.7.2"
    ids = [c.boot("t%d" % i, img) for i in range(5)]
    held = {i: addrs(c.wait_status(i, "ACTIVE"))[0]["addr"] for i in ids}
    assert sorted(held.values()) == ["10.98.7.%d" % i for i in range(2, 7)]
    full = c.boot("full", img)
    s = c.wait_status(full, "ERROR")
    assert "No more fixed IPs" in s["fault"]["message"]
    c.delete("/v2.1/servers/%s" % ids[2])
    c.wait_gone(ids[2])
    again = c.boot("again", img)
    s = c.wait_status(again, "ACTIVE")
    assert addrs(s)[0]["addr"] == held[ids[2]]


def test_concurrent_creates_never_share(make_cloud):
    c = make_cloud(computes=2, fake={"vcpus": "1000", "memory_mb": "4000000"},
                   scheduler_opts={"enabled_filters": "ComputeFilter"})
    img = c.create_image()
    body = {"server": {"name": "storm", "imageRef": img, "flavorRef": "1"}}

    def one(_):
        r = c.post("/v2.1/servers", body)
        assert r.status == 202, r
        return r.json["server"]["id"]

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        ids = list(ex.map(one, range(200)))

    def all_active():
        d = c.get("/v2.1/servers/detail?limit=1000").json["servers"]
        return d if sum(1 for s in d if s["status"] == "ACTIVE") == 200 else None
    d = wait_for(all_active, 120, interval=0.5, what="200 servers ACTIVE")
    a = [x["addr"] for s in d for x in addrs(s)]
    macs = [x["OS-EXT-IPS-MAC:mac_addr"] for s in d for x in addrs(s)]
    assert len(a) == 200 and len(set(a)) == 200
    assert len(set(macs)) == 200
    assert set(ids) == {s["id"] for s in d}


def test_manage_network_create(cloud, image):
    r = cloud.manage("network", "create", "--label", "second", "--fixed_range_v4",
                     "10.97.0.0/28", "--bridge", "br97", "--dhcp_start", "10.97.0.5")
    net = r.stdout.strip()
    assert [n["label"] for n in nets(cloud) if n["id"] == net] == ["second"]
    for bad in (["--fixed_range_v4", "10.97.1.1/24"], ["--fixed_range_v4", "10.97.1.0/24",
                                                       "--gateway", "10.98.0.1"],
                ["--fixed_range_v4", "10.97.1.0/24", "--mtu", "70000"]):
        r = cloud.manage("network", "create", "--label", "bad", "--bridge", "b", *bad,
                         check=False)
        assert r.returncode == 2, r
    r = cloud.manage("network", "create", "--label", "second", "--fixed_range_v4",
                     "10.96.0.0/24", "--bridge", "b", check=False)
    assert r.returncode == 1 and "exists" in r.stderr
    sid = cloud.boot("two-nets", image, networks=[{"uuid": net}, {"uuid": nets(cloud)[0]["id"]}])
    s = cloud.wait_status(sid, "ACTIVE")
    assert [a["addr"] for a in s["addresses"]["second"]] == ["10.97.0.5"]
    assert len(s["addresses"]["private"]) == 1
    assert "second" in cloud.manage("network", "list").stdout
    cloud.delete("/v2.1/servers/%s" % sid)
    cloud.wait_gone(sid)
