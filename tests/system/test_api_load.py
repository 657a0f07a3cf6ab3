"""One hostile client against kumo-api (issue 13, the API under load):
console calls to a hung compute host, and slow connections. Each test
asserts that another client is still answered while it runs (bounded
waits, no timing)."""
import os
import signal
import threading

import pytest

from kumocloud import Cloud, wait_for

RPC_TIMEOUT = 30     # how long a call to the hung host waits
ANSWER_WAIT = 15     # a well-behaved client's bounded wait, below it


@pytest.fixture(scope="module")
def hung():
    """A cloud whose one compute host answers no call once stopped."""
    c = Cloud(computes=1,
              extra_default={"rpc_response_timeout": str(RPC_TIMEOUT)}).start()
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
    img = hung.create_image()
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
        assert any(t.is_alive() for t in threads), "the calls still wait"
    finally:
        os.kill(hung.pid("compute1"), signal.SIGCONT)
    for t in threads:
        t.join()
    refused = [r for r in results if r.status == 429]
    for r in refused:
        kind, msg = fault(r, 429)
        assert kind == "overLimit" and "waiting on compute hosts" in msg, r
        assert r.header("Retry-After") is not None
    # the rest waited for the host: its answer, or the call's timeout
    assert len(refused) < 12
    assert all(r.status in (200, 429, 500) for r in results), results
    r = hung.post("/v2.1/servers/%s/action" % sid, {"os-getConsoleOutput": {}},
                  token="u1:p1")
    assert r.status == 200 and r.json["output"].startswith("FAKE CONSOLE"), r
    assert "refused: the project's calls" in hung.logs()["api"]
