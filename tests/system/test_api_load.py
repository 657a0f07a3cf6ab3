"""One hostile client against kumo-api (issue 13, the API under load):
console calls to a hung compute host, slow connections, and an image
flood. Each test asserts that another client is still answered while it
runs (bounded waits, no timing)."""
import os
import select
import signal
import socket
import threading

import pytest

from kumocloud import BUILD, Cloud, Daemon, wait_for

RPC_TIMEOUT = 12     # how long a call to the hung host waits
ANSWER_WAIT = 15     # a well-behaved client's bounded wait
IDLE_TIMEOUT = 3     # [api] client_socket_timeout, below RPC_TIMEOUT


@pytest.fixture(scope="module")
def hung():
    """A cloud whose one compute host answers no call once stopped."""
    c = Cloud(computes=1,
              extra_default={"rpc_response_timeout": str(RPC_TIMEOUT)},
              extra_conf={"api": {"client_socket_timeout": str(IDLE_TIMEOUT)}}).start()
    yield c
    os.kill(c.pid("compute1"), signal.SIGCONT)
    c.stop()


def fault(r, code):
    assert r.status == code, r
    (kind,) = list(r.json)
    assert r.json[kind]["code"] == code
    return kind, r.json[kind]["message"]


# ---- item 8: calls that wait on a hung compute hold no HTTP worker ----------

def test_console_calls_to_a_hung_host_leave_others_answered(hung):
    img = hung.create_image(visibility="public")
    r = hung.post("/v2.1/servers", {"server": {"name": "vm-console", "imageRef": img,
                                               "flavorRef": "1"}}, token="u1:p1")
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    hung.wait_status(sid, "ACTIVE")
    results = []

    def console():
        r = hung.post("/v2.1/servers/%s/action" % sid, {"os-getConsoleOutput": {}},
                      token="u1:p1", timeout=RPC_TIMEOUT * 4)
        results.append(r)

    os.kill(hung.pid("compute1"), signal.SIGSTOP)
    try:
        threads = [threading.Thread(target=console) for _ in range(12)]
        for t in threads:
            t.start()
        # the calls past the project's share are refused at once ...
        wait_for(lambda: any(r.status == 429 for r in results), ANSWER_WAIT,
                 what="a console call refused")
        assert any(t.is_alive() for t in threads), "some calls wait on the host"
        # ... while the others wait on the host, everyone else is answered
        r = hung.get("/v2.1/servers", token="u2:p2", timeout=ANSWER_WAIT)
        assert r.status == 200 and r.json == {"servers": []}, r
        r = hung.get("/v2.1/servers/detail", token="u1:p1", timeout=ANSWER_WAIT)
        assert r.status == 200 and len(r.json["servers"]) == 1, r
        r = hung.get("/v2.1/flavors", token="u2:p2", timeout=ANSWER_WAIT)
        assert r.status == 200, r
        for t in threads:
            t.join()
    finally:
        os.kill(hung.pid("compute1"), signal.SIGCONT)
    refused = [r for r in results if r.status == 429]
    for r in refused:
        kind, msg = fault(r, 429)
        assert kind == "overLimit" and "waiting on compute hosts" in msg, r
        assert r.header("Retry-After") is not None
    # the rest waited on the host for the call's timeout, suspended past
    # the idle timeout of a connection, and were answered
    waited = [r for r in results if r.status != 429]
    assert len(results) == 12 and waited, results
    for r in waited:
        kind, msg = fault(r, 500)
        assert "compute1 did not answer in time" in msg, r
    assert "refused: the project's calls" in hung.logs()["api"]
    wait_for(lambda: hung.post("/v2.1/servers/%s/action" % sid,
                               {"os-getConsoleOutput": {}}, token="u1:p1").status == 200,
             ANSWER_WAIT, what="the host to answer again")


def test_a_hung_host_holds_a_bounded_share_of_the_call_pool(hung):
    """Nine calls from three projects to one hung host: the host's share
    (8) wait, one is refused 503; no project went over its own share."""
    img = hung.create_image(visibility="public")
    sids = {}
    for p in ("p1", "p2", "p3"):
        r = hung.post("/v2.1/servers", {"server": {"name": "vm-" + p, "imageRef": img,
                                                   "flavorRef": "1"}}, token="u:" + p)
        assert r.status == 202, r
        sids[p] = r.json["server"]["id"]
    for sid in sids.values():
        hung.wait_status(sid, "ACTIVE")
    results = []

    def console(p):
        results.append(hung.post("/v2.1/servers/%s/action" % sids[p],
                                 {"os-getConsoleOutput": {}}, token="u:" + p,
                                 timeout=RPC_TIMEOUT * 4))

    os.kill(hung.pid("compute1"), signal.SIGSTOP)
    try:
        threads = [threading.Thread(target=console, args=(p,))
                   for p in ["p1"] * 4 + ["p2"] * 4 + ["p3"]]
        for t in threads:
            t.start()
        wait_for(lambda: results, ANSWER_WAIT, what="a call refused")
        r = hung.get("/v2.1/servers", token="u:p3", timeout=ANSWER_WAIT)
        assert r.status == 200, r
        for t in threads:
            t.join()
    finally:
        os.kill(hung.pid("compute1"), signal.SIGCONT)
    statuses = sorted(r.status for r in results)
    assert statuses == [500] * 8 + [503], results
    (refused,) = [r for r in results if r.status == 503]
    kind, msg = fault(refused, 503)
    assert kind == "serviceUnavailable" and "compute1" in msg, refused
    assert refused.header("Retry-After") is not None


# ---- item 7: slow connections --------------------------------------------------

NOFILE = 256         # the API's file limit in these tests (systemd's is 1024)
PER_IP = 20


@pytest.fixture(scope="module")
def slow():
    """A cloud whose kumo-api runs with NOFILE files, as under a
    LimitNOFILE=, and closes idle connections after 3 s."""
    c = Cloud(computes=0, extra_conf={"api": {"max_connections_per_ip": str(PER_IP),
                                               "client_socket_timeout": "3"}}).start()
    c.stop_daemon("api")
    c.daemons["api"] = Daemon(
        "api", ["prlimit", "--nofile=%d:%d" % (NOFILE, NOFILE), "--",
                os.path.join(BUILD, "kumo-api"), "-c", c.conf_path("controller")],
        os.path.join(c.dir, "api.log"), c.env)
    wait_for(c._api_up, 30, what="kumo-api to listen again")
    yield c
    c.stop()


def slow_clients(api, n, addr):
    """n connections from addr, each with half a request line sent."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((addr, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", api.port))
        try:
            s.sendall(b"GET /v2.1/servers HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            pass       # closed already: over the limit
        socks.append(s)
    return socks


def closed_by_server(s):
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def test_slow_connections_from_one_address_leave_others_answered(slow):
    socks = slow_clients(slow, 300, "127.0.0.2")
    try:
        # the address gets its share; the rest are closed at once ...
        wait_for(lambda: sum(closed_by_server(s) for s in socks) >= 300 - PER_IP,
                 ANSWER_WAIT, what="connections over the per-address limit closed")
        # ... and everyone else is answered while the share stays open
        for _ in range(5):
            r = slow.get("/v2.1/flavors", token="u2:p2", timeout=ANSWER_WAIT)
            assert r.status == 200, r
        slow_clients(slow, 1, "127.0.0.1")[0].close()
    finally:
        for s in socks:
            s.close()
    assert slow.daemons["api"].proc.poll() is None


def test_idle_connection_is_closed(slow):
    (s,) = slow_clients(slow, 1, "127.0.0.3")
    try:
        s.settimeout(ANSWER_WAIT * 2)
        assert s.recv(1024) == b"", "closed without an answer"
    finally:
        s.close()
    r = slow.get("/", token=None)
    assert r.status == 200, r


# ---- the image flood: one client creating and uploading to its quota ---------

FLOOD_COUNT = 60      # [glance] image_count_total
FLOOD_MIB = 2         # [glance] image_size_total
FLOOD_CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def flood_cloud():
    c = Cloud(computes=0, extra_conf={"glance": {
        "image_count_total": str(FLOOD_COUNT), "image_size_total": str(FLOOD_MIB),
        "image_count_uploading": "2"}}).start()
    yield c
    c.stop()


def test_image_flood_stops_at_the_quota_and_others_are_answered(flood_cloud):
    c = flood_cloud
    flooder, other = "mallory:proj-m", "olive:proj-o"
    stop = threading.Event()
    statuses, created = [], []
    lock = threading.Lock()

    def flood():
        queued = []    # this thread's images without data
        while not stop.is_set():
            r = c.post("/v2/images", {"name": "flood"}, token=flooder,
                       timeout=ANSWER_WAIT * 4)
            with lock:
                statuses.append(("create", r.status))
                if r.status == 201:
                    created.append(r.json["id"])
                    queued.append(r.json["id"])
            for iid in list(queued):
                u = c.request("PUT", "/v2/images/%s/file" % iid, token=flooder,
                              raw=b"f" * FLOOD_CHUNK, timeout=ANSWER_WAIT * 4,
                              headers={"Content-Type": "application/octet-stream"})
                with lock:
                    statuses.append(("upload", u.status))
                if u.status == 204:
                    queued.remove(iid)

    def hit_both_quotas():
        with lock:
            return (("create", 413) in statuses and ("upload", 413) in statuses)

    def size_quota_full():
        with lock:
            return sum(1 for k, s in statuses if (k, s) == ("upload", 204)) == \
                (FLOOD_MIB << 20) // FLOOD_CHUNK

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for t in threads:
        t.start()
    answered = 0
    try:
        # another client, while the flood runs, until it has hit its quotas
        while answered < 10 or not hit_both_quotas() or not size_quota_full():
            r = c.get("/v2/images", token=other, timeout=ANSWER_WAIT)
            assert r.status == 200 and r.json["images"] == [], r
            r = c.get("/v2.1/flavors", token=other, timeout=ANSWER_WAIT)
            assert r.status == 200, r
            answered += 1
            assert answered < 2000, "the flood never reached its quotas"
        iid = c.post("/v2/images", {"name": "mine"}, token=other,
                     timeout=ANSWER_WAIT).json["id"]
        r = c.request("PUT", "/v2/images/%s/file" % iid, token=other, raw=b"o" * 1000,
                      timeout=ANSWER_WAIT,
                      headers={"Content-Type": "application/octet-stream"})
        assert r.status == 204, r
    finally:
        stop.set()
        for t in threads:
            t.join()
    # the flood got what its quotas allow, and 413s, never a 5xx
    assert {s for _, s in statuses} <= {201, 204, 413}, statuses
    mine = c.get("/v2/images?limit=1000", token=flooder).json["images"]
    assert len(mine) == FLOOD_COUNT == len(created)
    active = [i for i in mine if i["status"] == "active"]
    assert sum(i["size"] for i in active) <= FLOOD_MIB << 20
    assert len(active) == (FLOOD_MIB << 20) // FLOOD_CHUNK
    assert {i["status"] for i in mine} == {"active", "queued"}
    # no partial file: the store holds the active images' data only
    store = os.path.join(c.state_dir(), "images")
    assert sorted(os.listdir(store)) == sorted([i["id"] for i in active] + [iid])
