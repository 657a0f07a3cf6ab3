"""Hostile input to kumo-api (issue 13, parsing and logging): NUL bytes in
the path and headers, log injection, Unicode format and separator
characters in names, and regular expressions that cost a backtracking
engine minutes. Real daemons, no computes."""
import re
import socket

import pytest


H = b"Host: x\r\nX-Auth-Token: admin:admin\r\nConnection: close\r\n"


def raw(api, data):
    """Sends data as is; (status, the reply's bytes)."""
    s = socket.create_connection(("127.0.0.1", api.port), timeout=10)
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", out)
    assert m, out[:200]
    return int(m.group(1)), out


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def fault(r, code):
    assert r.status == code, r
    (kind,) = list(r.json)
    assert r.json[kind]["code"] == code
    return r.json[kind]["message"]


# ---- item 10: NUL in the path and in headers ---------------------------------

@pytest.mark.parametrize("nul", [b"%00", b"\x00"], ids=["escaped", "raw"])
def test_nul_in_path_deletes_nothing(api, nul):
    img = api.create_image()
    status, _ = raw(api, b"DELETE /v2/images/" + img.encode() + nul +
                    b"/file HTTP/1.1\r\n" + H + b"\r\n")
    assert status in (400, 404)
    assert api.get("/v2/images/" + img).status == 200


@pytest.mark.parametrize("nul", [b"%00", b"\x00"], ids=["escaped", "raw"])
def test_nul_in_path_creates_nothing(api, nul):
    img = api.create_image()
    before = len(api.get("/v2.1/servers").json["servers"])
    body = ('{"server": {"name": "nul", "imageRef": "%s", "flavorRef": "1"}}'
            % img).encode()
    status, _ = raw(api, b"POST /v2.1/servers" + nul + b"/" + img.encode() +
                    b"/action HTTP/1.1\r\n" + H +
                    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % len(body) + body)
    assert status in (400, 404)
    assert len(api.get("/v2.1/servers").json["servers"]) == before


def test_nul_in_query_is_refused(api):
    status, out = raw(api, b"GET /v2.1/servers?name=a%00b HTTP/1.1\r\n" + H + b"\r\n")
    assert status == 400, out[:300]


@pytest.mark.parametrize("headers", [
    b"X-Auth-Token: admin:admin\x00junk\r\nHost: x\r\n",
    b"Host: x\r\nX-Auth-Token: admin:admin\r\nX-Trace: a\x00b\r\n",
    b"Host: x\r\nX-Auth-Token: admin:admin\r\nX-Trace: a\x00b\n",
], ids=["first", "last", "last-bare-lf"])
def test_nul_in_header_is_refused(api, headers):
    status, out = raw(api, b"GET /v2.1/flavors HTTP/1.1\r\n" + headers +
                      b"Connection: close\r\n\r\n")
    assert status == 400, out[:300]
    assert b"a NUL byte in a header" in out


def test_headers_without_nul_still_pass(api):
    # bare LF line ends, empty values, trailing spaces: no NUL, no refusal
    status, out = raw(api, b"GET /v2.1/flavors HTTP/1.1\nHost: x\nX-Empty:\n"
                      b"X-Auth-Token: admin:admin\nX-Pad: a  \nConnection: close\n\n")
    assert status == 200, out[:300]
    status, out = raw(api, b"GET /v2.1/flavors HTTP/1.1\r\nX-Empty: \r\n" + H + b"\r\n")
    assert status == 200, out[:300]
    # an obsolete folded header (libmicrohttpd 0.9.75 moves its key)
    status, out = raw(api, b"GET /v2.1/flavors HTTP/1.1\r\nX-Fold: a\r\n b\r\n" + H + b"\r\n")
    assert status == 200, out[:300]


def test_nul_is_logged_whole(api):
    img = api.create_image()
    raw(api, b"DELETE /v2/images/" + img.encode() + b"%00/evil HTTP/1.1\r\n" + H + b"\r\n")
    lines = [l for l in api.daemons["api"].log_text().splitlines()
             if img in l and "DELETE" in l]
    assert lines, "the refused request is not logged"
    assert all("evil" in l for l in lines), lines


# ---- item 11: log injection --------------------------------------------------

def test_path_cannot_forge_log_lines(api):
    fake = "2026-01-01 00:00:00.000 kumo-api[1] ERROR [req-forged] forged line"
    path = "/v2.1/servers%0a" + fake.replace(" ", "%20") + "%0d%1b[2J"
    status, _ = raw(api, b"GET " + path.encode() + b" HTTP/1.1\r\n" + H + b"\r\n")
    assert status == 404
    log = api.daemons["api"].log_text().splitlines()
    assert not [l for l in log if l.startswith("2026-01-01")], "a forged line"
    hits = [l for l in log if "forged line" in l]
    assert hits and all("/v2.1/servers\\n2026-01-01" in l for l in hits), hits
    assert all("\x1b" not in l and "\r" not in l for l in log)


def test_json_strings_and_query_cannot_forge_log_lines(api):
    img = api.create_image()
    r = api.post("/v2.1/servers", {"server": {"name": "x", "imageRef": img, "flavorRef": "1",
                                              "k\n2026-01-02 forged json": 1}})
    assert fault(r, 400).endswith("Additional properties are not allowed "
                                  "('k\\n2026-01-02 forged json' was unexpected)")
    r = api.get("/v2.1/servers?sort_key=x%0a2026-01-03%20forged%20query")
    assert r.status == 400
    log = api.daemons["api"].log_text().splitlines()
    assert not [l for l in log if l.startswith(("2026-01-02", "2026-01-03"))]
    assert [l for l in log if "'k\\n2026-01-02 forged json' was unexpected" in l]
    assert [l for l in log if "x\\n2026-01-03 forged query" in l]


# ---- item 12: names ------------------------------------------------------------

NAME_MSG = ("An invalid 'name' value was provided. The name must be: printable "
            "characters. Can not start or end with whitespace.")


@pytest.mark.parametrize("name", ["\u202eabc", "a\u200bb", "a\u2028b", "a\u2029b",
                                  "\ufeffa", "a\u00adb", "\u3000a", "a\U0001F600"])
def test_server_name_unicode_format_and_separators(api, name):
    img = api.create_image()
    r = api.post("/v2.1/servers", {"server": {"name": name, "imageRef": img,
                                              "flavorRef": "1"}})
    assert fault(r, 400) == NAME_MSG


def test_server_name_printable_unicode_accepted(api):
    img = api.create_image()
    r = api.post("/v2.1/servers", {"server": {"name": "h\u00e9llo w\u00f6rld \u65e5\u672c",
                                              "imageRef": img, "flavorRef": "1"}})
    assert r.status == 202, r


@pytest.mark.parametrize("name", ["\u202eabc", "a\u200bb", "a\u2028b", " abc", "abc "])
def test_keypair_name_nova_format(api, name):
    # up to 2.91 Nova's schema checks the 'name' format before the
    # keypair API's own safe characters
    r = api.post("/v2.1/os-keypairs", {"keypair": {"name": name}})
    assert fault(r, 400) == NAME_MSG
    r = api.post("/v2.1/os-keypairs", {"keypair": {"name": name, "public_key": "x"}},
                 headers={"OpenStack-API-Version": "compute 2.92"})
    assert r.status == 400, r


# ---- item 6: the name filter's regular expression ----------------------------

def test_name_regex_has_a_bounded_cost(api):
    img = api.create_image()
    api.boot("a" * 40 + "!", img)
    pid = api.pid("api")
    for pattern in ("a{1,100}{1,100}{1,100}", "(?:(?:a{1,100}){1,100}){1,100}",
                    "(a+)+$", "(a|aa)+$", "((a*)*)*b",
                    "(.*a){20}", "(?:a?){40}a{40}"):
        r = api.get("/v2.1/servers?name=" + pattern.replace("+", "%2B"))
        assert r.status in (200, 400), r
        if r.status == 400:
            assert list(r.json) == ["badRequest"], r.json
    assert vm_rss_kib(pid) < 100 * 1024
    assert api.get("/v2.1/flavors").status == 200


def test_name_regex_limits_and_matches(api):
    img = api.create_image()
    sid = api.boot("regex-target-1", img)
    r = api.get("/v2.1/servers?name=^regex-t.rget-[0-9]$")
    assert [s["id"] for s in r.json["servers"]] == [sid]
    assert "Invalid regular expression" in fault(api.get("/v2.1/servers?name=(ab"), 400)
    assert fault(api.get("/v2.1/servers?name=" + "a" * 256), 400) == \
        "Invalid filter: name is too long"
    assert fault(api.get("/v2.1/servers?name=%ff"), 400)
