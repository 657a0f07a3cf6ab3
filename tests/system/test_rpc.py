"""common/rpc against the real broker: rpc-echo servers and the rpc-call
client (KUMO_BUILD, default /work/main/build). Each test uses its own topic;
every wait is bounded; processes are killed in teardown."""
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from rpchelp import (RABBITMQ, AmqpProxy, Procs, RabbitNode, amqp_conn, call1,  # noqa: E402
                     delete_entities,
                     envelope, list_queues, publish_raw, rpc_call, topic, wait_for,
                     wait_line)


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


def test_call_echo(procs):
    t = topic()
    procs.echo(t, 's1')
    payload = {'a': [1, 2.5, 'x', None, True], 'u': 'h\u00e9\u4e2d "q"', 'n': {'d': {}}}
    r = call1(t, 'echo', {'payload': payload})
    assert r['ok'] and r['result'] == payload


def test_cast(procs):
    t = topic()
    procs.echo(t, 's1')
    lines = rpc_call(t, 'tick', {}, '--cast', '--count', '5', check=True)
    assert lines[-1]['summary']['ok'] == 5
    wait_for(lambda: call1(t, 'stats')['result']['ticks'] == 5, 10)


def test_casts_bigger_than_a_frame(procs, tmp_path):
    """The outbox writes several casts at once, each in as many body frames
    as frame_max (128 KiB) needs: every one arrives whole (the server
    parses it and counts it)."""
    t = topic()
    procs.echo(t, 's1')
    args = tmp_path / 'args.json'
    args.write_text(json.dumps({'pad': 'x' * 300000, 'u': '\u00e9\u4e2d' * 20000}))
    lines = rpc_call(t, 'tick', '@' + str(args), '--cast', '--count', '6',
                     '--threads', '3', check=True)
    assert lines[-1]['summary']['ok'] == 6
    rpc_call(t, 'tick', {}, '--cast', '--count', '50', '--threads', '4', check=True)
    wait_for(lambda: call1(t, 'stats')['result']['ticks'] == 56, 10)


def test_fanout_to_three_servers(procs):
    t = topic()
    for s in ('s1', 's2', 's3'):
        procs.echo(t, s)
    r = call1(t, 'tick', {}, '--fanout')
    assert r['ok'] and r['result'] is None
    for s in ('s1', 's2', 's3'):
        wait_for(lambda: call1(t, 'stats', {}, '--server', s)['result']['ticks'] == 1, 10)


def test_call_specific_server(procs):
    t = topic()
    procs.echo(t, 's1')
    procs.echo(t, 's2')
    lines = rpc_call(t, 'whoami', {}, '--server', 's2', '--count', '20', check=True)
    assert {x['result'] for x in lines[:-1]} == {'s2'}
    # Without a server, calls are shared between both (competing consumers).
    lines = rpc_call(t, 'whoami', {}, '--count', '40', check=True)
    assert {x['result'] for x in lines[:-1]} == {'s1', 's2'}


def test_timeout_no_server():
    t = topic()
    start = time.time()
    r = call1(t, 'echo', {'payload': 1}, '--timeout', '1000')
    assert not r['ok'] and r['kind'] == 'timeout'
    assert r['class'] == 'MessagingTimeout'
    assert time.time() - start < 5
    assert 900 <= r['ms'] < 2500


def test_timeout_slow_handler(procs):
    t = topic()
    procs.echo(t, 's1')
    r = call1(t, 'sleep', {'seconds': 2}, '--timeout', '500')
    assert r['kind'] == 'timeout' and r['ms'] < 1500
    # The late reply is dropped; the server still answers.
    assert call1(t, 'sleep', {'seconds': 0.1})['result'] == 0.1


def test_remote_error(procs):
    t = topic()
    procs.echo(t, 's1')
    r = call1(t, 'fail', {'message': 'it broke: \u00e9'})
    assert not r['ok'] and r['kind'] == 'remote'
    assert (r['class'], r['module'], r['message']) == ('ValueError', 'builtins', 'it broke: \u00e9')
    r = call1(t, 'sleep', {'seconds': 'x'})
    assert r['class'] == 'ValueError'


def test_unknown_method(procs):
    t = topic()
    p = procs.echo(t, 's1')
    r = call1(t, 'no_such_method')
    assert r['kind'] == 'remote'
    assert r['class'] == 'NoSuchMethod'
    assert r['module'] == 'oslo_messaging.rpc.dispatcher'
    assert r['message'] == 'Endpoint does not support RPC method no_such_method'
    assert p.poll() is None


def test_version_and_namespace(procs):
    t = topic()
    procs.echo(t, 's1')
    # rpc-echo serves no namespace and any version.
    assert call1(t, 'echo', {'payload': 1}, '--version', '7.3')['ok']
    r = call1(t, 'echo', {'payload': 1}, '--namespace', 'baseapi')
    assert r['class'] == 'UnsupportedVersion'


def test_context_and_request_id_in_logs(procs):
    t = topic()
    p = procs.echo(t, 's1', '-d')
    rid = 'req-' + str(uuid.uuid4())
    r = call1(t, 'context', {}, '--request-id', rid, '--user', 'alice', '--project', 'p1')
    res = r['result']
    assert res['request_id'] == rid
    assert (res['user_id'], res['project_id'], res['is_admin']) == ('alice', 'p1', False)
    assert res['roles'] == ['member']
    p.terminate()
    _, err = p.communicate(timeout=15)
    line = [x for x in err.decode().splitlines() if 'context() called' in x]
    assert line and rid in line[0], err.decode()[-2000:]


def test_concurrent_calls(procs):
    t = topic()
    procs.echo(t, 's1')
    lines = rpc_call(t, 'echo', {'payload': 'x' * 100}, '--threads', '8', '--count', '200',
                     '--timeout', '20000', timeout=60)
    summary = lines[-1]['summary']
    assert summary['ok'] == 200 and summary['failed'] == 0, lines[-1]
    assert sorted(x['i'] for x in lines[:-1]) == list(range(200))
    assert all(x['result'] == 'x' * 100 for x in lines[:-1])


def test_failover_to_second_host(procs):
    t = topic()
    url = 'rabbit://guest:guest@127.0.0.1:5679,guest:guest@127.0.0.1:5672/'
    procs.echo(t, 's1', url=url)
    r = call1(t, 'echo', {'payload': 'rr'}, '--timeout', '15000', url=url)
    assert r['result'] == 'rr'


def test_bad_vhost_fails_in_time():
    r = call1(topic(), 'echo', {'payload': 1}, '--timeout', '2000',
              url='rabbit://guest:guest@127.0.0.1:5672/no-such-vhost')
    assert not r['ok'] and r['kind'] in ('transport', 'timeout')
    assert r['ms'] < 3500


def test_stop_deletes_fanout_queue(procs):
    t = topic()
    p = procs.echo(t, 's1')
    conn = amqp_conn()
    ch = conn.channel()
    try:
        # The broker has T and T.S and one T_fanout_<hex> for this server.
        ch.queue_declare(t, passive=True)
        ch.queue_declare(t + '.s1', passive=True)
        p.terminate()
        assert p.wait(15) == 0
    finally:
        conn.close()
    out = subprocess.run(['rabbitmqctl', '-q', 'list_queues', 'name'], capture_output=True,
                         timeout=60).stdout.decode()
    assert t + '_fanout_' not in out
    assert t + '.s1' in out.split()


def test_malformed_messages(procs):
    """Garbage on the server's queue is logged and dropped or answered with a
    failure; the server keeps serving."""
    t = topic()
    p = procs.echo(t, 's1')
    conn = amqp_conn()
    ch = conn.channel()
    try:
        reply_q = 'reply_' + uuid.uuid4().hex
        ch.queue_declare(reply_q, durable=False, auto_delete=False, exclusive=False,
                         arguments={'x-expires': 60000})
        bad = [
            b'not json at all',
            b'\xff\xfe\x00binary',
            b'',
            b'[1, 2, 3]',
            json.dumps({'oslo.version': '3.0', 'oslo.message': '{}'}),
            json.dumps({'oslo.version': '2.0', 'oslo.message': '{broken'}),
            json.dumps({'oslo.version': '2.0', 'oslo.message': 42}),
            envelope({'method': 42, 'args': {}}),
            envelope({'method': 'echo', 'args': [1, 2]}),
            envelope({'method': 'echo', 'args': {'payload': 1}, '_msg_id': 5}),
            envelope({'method': 'echo', '_context_roles': 'admin'}),
            b'x' * (17 << 20),  # over the 16 MiB cap
        ]
        for body in bad:
            publish_raw(ch, 'kumo', t, body)
        # A call with mistyped args is answered with a failure.
        msg_id = uuid.uuid4().hex
        publish_raw(ch, 'kumo', t, envelope({
            'method': 'echo', 'args': ['x'], '_msg_id': msg_id, '_reply_q': reply_q,
            '_unique_id': uuid.uuid4().hex}))
        # An envelope-less (1.0) call is answered normally.
        msg_id2 = uuid.uuid4().hex
        publish_raw(ch, 'kumo', t, json.dumps({
            'method': 'echo', 'args': {'payload': 'v1'}, '_msg_id': msg_id2,
            '_reply_q': reply_q}))
        replies = {}

        def got_replies():
            m = ch.basic_get(reply_q, no_ack=True)
            if m is not None:
                body = json.loads(m.body)
                inner = json.loads(body['oslo.message'])
                replies[inner['_msg_id']] = inner
            return len(replies) == 2
        wait_for(got_replies, 20, 0.05)
        f = json.loads(replies[msg_id]['failure'])
        assert f['class'] == 'ValueError' and 'args' in f['message']
        assert replies[msg_id]['ending'] is True and replies[msg_id]['result'] is None
        assert replies[msg_id2]['result'] == 'v1' and replies[msg_id2]['failure'] is None
        ch.queue_delete(reply_q)
    finally:
        conn.close()
    assert p.poll() is None
    assert call1(t, 'echo', {'payload': 'still here'})['result'] == 'still here'


def test_duplicate_unique_id_dropped(procs):
    t = topic()
    procs.echo(t, 's1')
    conn = amqp_conn()
    ch = conn.channel()
    try:
        uid = uuid.uuid4().hex
        for _ in range(3):
            publish_raw(ch, 'kumo', t, envelope({'method': 'tick', 'args': {},
                                                 '_unique_id': uid}))
    finally:
        conn.close()
    time.sleep(0.5)
    assert call1(t, 'stats')['result']['ticks'] == 1


def rabbitmq(cmd):
    subprocess.run([RABBITMQ, cmd], check=True, timeout=240,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_broker_restart(procs):
    """Calls in flight during a broker restart fail within their timeout;
    afterwards calls work again, the server reconnects by itself."""
    t = topic()
    procs.echo(t, 's1')
    timeout_ms = 3000
    client = procs.spawn([os.path.join(os.environ.get('KUMO_BUILD', '/work/main/build'),
                                       'rpc-call'),
                          '--timeout', str(timeout_ms), '--count', '100000', '--interval', '50',
                          t, 'echo', json.dumps({'payload': 'p'})],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        rabbitmq('restart')
        # The server and the running client reconnect with backoff.
        wait_for(lambda: call1(t, 'echo', {'payload': 'back'}, '--timeout', '2000',
                               timeout=30).get('ok'), 90, 1)
        time.sleep(3)
    finally:
        rabbitmq('start')
        client.terminate()
    out, _ = client.communicate(timeout=30)
    lines = [json.loads(x) for x in out.decode().splitlines() if x.strip()]
    fails = [x for x in lines if not x['ok']]
    assert lines and fails, 'the restart should have failed some calls'
    # No call ever took much longer than its timeout.
    assert max(x['ms'] for x in lines) < timeout_ms + 2000
    assert {x['kind'] for x in fails} <= {'timeout', 'transport'}
    # The client recovered: its last calls succeeded.
    assert all(x['ok'] for x in lines[-5:]), lines[-10:]


def test_heartbeats_keep_idle_connections(procs):
    """With a 1 s AMQP heartbeat the broker drops a peer after ~2 s of
    silence: idle connections (listen, reply, publish pool) must keep
    entering the library."""
    t = topic()
    p = procs.echo(t, 's1', '--heartbeat', '1')
    lines = rpc_call(t, 'echo', {'payload': 1}, '--heartbeat', '1', '--count', '2',
                     '--interval', '6000', '--timeout', '3000', check=True, timeout=40)
    assert all(x['ok'] and x['ms'] < 1000 for x in lines[:-1]), lines
    p.terminate()
    _, err = p.communicate(timeout=15)
    assert 'lost' not in err.decode() and 'closed' not in err.decode(), err.decode()[-2000:]


def test_returned_reply_is_retried_without_blocking(procs):
    """A reply to a reply queue that does not exist yet comes back
    (mandatory); it is retried in the background, as oslo retries it, and
    delivered once the queue exists. Meanwhile the only worker serves on."""
    t = topic()
    procs.echo(t, 's1', '--workers', '1')
    reply_q = 'reply_' + uuid.uuid4().hex
    msg_id = uuid.uuid4().hex
    conn = amqp_conn()
    ch = conn.channel()
    try:
        publish_raw(ch, 'kumo', t, envelope({
            'method': 'echo', 'args': {'payload': 'late'}, '_msg_id': msg_id,
            '_reply_q': reply_q, '_unique_id': uuid.uuid4().hex}))
        time.sleep(1)
        r = call1(t, 'echo', {'payload': 'now'}, '--timeout', '3000')
        assert r['ok'] and r['ms'] < 1500, r
        ch.queue_declare(reply_q, durable=False, auto_delete=False, exclusive=False,
                         arguments={'x-expires': 60000})

        def got():
            m = ch.basic_get(reply_q, no_ack=True)
            return m and json.loads(json.loads(m.body)['oslo.message'])
        reply = wait_for(got, 10, 0.1)
        assert reply['_msg_id'] == msg_id and reply['result'] == 'late'
        ch.queue_delete(reply_q)
    finally:
        conn.close()


def rpc_call_bin():
    return os.path.join(os.environ.get('KUMO_BUILD', '/work/main/build'), 'rpc-call')


def test_casts_made_during_an_outage_are_delivered_after_reconnect(procs):
    """rpc_cast hands its message to the outbox and returns, even while the
    broker cannot be reached; the outbox delivers it once it can, and
    rpc-call's flush waits for the broker's confirms before exiting 0."""
    t = topic()
    procs.echo(t, 's1')
    proxy = AmqpProxy()  # down: connections are refused
    client = procs.spawn([rpc_call_bin(), '--transport-url', proxy.url, '--cast',
                          '--count', '5', '--timeout', '60000', t, 'tick', '{}'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # All five casts returned while nothing could reach the broker.
        out = wait_line(client, '"i":4', 20)
        assert out.count('"ok":true') == 5, out
        assert client.poll() is None  # still flushing: nothing confirmed
        assert call1(t, 'stats')['result']['ticks'] == 0
        proxy.up()
        assert client.wait(60) == 0, client.stderr.read().decode()[-2000:]
    finally:
        proxy.down()
    assert call1(t, 'stats')['result']['ticks'] == 5


def test_unconfirmed_casts_are_published_again_after_a_lost_connection(procs):
    """The broker got the casts but its confirms never reached the client;
    the connection breaks: the outbox publishes the unconfirmed casts again
    on a new connection and the server drops the copies by _unique_id."""
    t = topic()
    echo = procs.echo(t, 's1')
    proxy = AmqpProxy()
    proxy.up()
    proxy.drop_acks = True
    client = procs.spawn([rpc_call_bin(), '--transport-url', proxy.url, '--cast',
                          '--count', '5', '--timeout', '60000', t, 'tick', '{}'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: call1(t, 'stats')['result']['ticks'] == 5, 20)
        wait_for(lambda: proxy.acks_dropped > 0, 10)
        assert client.poll() is None  # flush waits for the confirms
        proxy.drop_acks = False
        proxy.cut()
        assert client.wait(60) == 0
    finally:
        proxy.down()
    assert 'published again' in client.stderr.read().decode()
    assert call1(t, 'stats')['result']['ticks'] == 5
    echo.terminate()
    _, err = echo.communicate(timeout=15)
    assert err.decode().count('duplicate message') == 5, err.decode()[-2000:]


def test_flush_reports_unconfirmed_casts(procs):
    """No confirm within the timeout: rpc-call's flush fails and says so."""
    t = topic()
    procs.echo(t, 's1')
    proxy = AmqpProxy()
    proxy.up()
    proxy.drop_acks = True
    try:
        lines = rpc_call(t, 'tick', {}, '--cast', '--timeout', '1000', url=proxy.url,
                         timeout=60)
    finally:
        proxy.down()
    assert lines[0]['ok'] and lines[-1] == {'ok': False, 'kind': 'unconfirmed'}, lines
    wait_for(lambda: call1(t, 'stats')['result']['ticks'] == 1, 10)


def test_slow_handler_does_not_hold_up_the_next_request(procs):
    """The worker that read a request runs it while keeping the reading
    turn; an idle worker takes the reading over when it runs long, so a
    request behind a slow one is served by another worker."""
    t = topic()
    procs.echo(t, 's1', '--workers', '2')
    slow = procs.spawn([rpc_call_bin(), '--timeout', '30000', t, 'sleep',
                        json.dumps({'seconds': 6})], stdout=subprocess.PIPE)
    # Each stats call while sleep() runs is itself served by the other worker.
    wait_for(lambda: call1(t, 'stats', {}, '--timeout', '3000')['result']['sleeping'] == 1, 10)
    r = call1(t, 'echo', {'payload': 'next'}, '--timeout', '3000')
    assert r['ok'] and r['result'] == 'next', r
    assert call1(t, 'stats', {}, '--timeout', '3000')['result']['sleeping'] == 1
    out, _ = slow.communicate(timeout=30)
    assert json.loads(out)['result'] == 6


def test_requests_read_together_with_a_slow_one_run_at_once(procs):
    """Deliveries that arrive together are read and acked together (one
    basic.ack), then run: the reader runs the slow first one, and the
    standby runs the others instead of leaving them behind it."""
    t = topic()
    server = procs.echo(t, 's1', '--workers', '3')
    os.kill(server.pid, signal.SIGSTOP)     # the broker's deliveries pile up
    try:
        slow = procs.spawn([rpc_call_bin(), '--timeout', '30000', t, 'sleep',
                            json.dumps({'seconds': 4})], stdout=subprocess.PIPE)
        time.sleep(0.5)
        fast = procs.spawn([rpc_call_bin(), '--timeout', '30000', '--threads', '5',
                            '--count', '5', t, 'echo', json.dumps({'payload': 'x'})],
                           stdout=subprocess.PIPE)
        time.sleep(0.5)
    finally:
        os.kill(server.pid, signal.SIGCONT)
    out, _ = fast.communicate(timeout=30)
    lines = [json.loads(x) for x in out.decode().splitlines()]
    assert lines[-1]['summary']['ok'] == 5, lines
    # Each was answered long before sleep(4) ended (its time counts the pause).
    assert all(x['ms'] < 3000 for x in lines[:-1]), lines
    assert json.loads(slow.communicate(timeout=30)[0])['result'] == 4



def test_cast_waits_for_its_queue(procs):
    """A cast to a topic whose queue is not there yet (its server has not
    declared it: not started, or not back after a broker restart) comes
    back from the broker unroutable; the outbox keeps it and sends it
    again until the queue is there, instead of the broker dropping it."""
    t = topic()
    client = procs.spawn([rpc_call_bin(), '--cast', '--count', '3', '--timeout', '60000',
                          t, 'tick', '{}'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = wait_line(client, '"i":2', 20)
    assert out.count('"ok":true') == 3, out
    # Returned, kept, sent again: rpc-call's flush still waits for them.
    wait_for(lambda: b'came back unroutable' in client.stderr.peek(4096), 20)
    assert client.poll() is None
    procs.echo(t, 's1')
    assert client.wait(30) == 0, client.stderr.read().decode()[-2000:]
    wait_for(lambda: call1(t, 'stats')['result']['ticks'] == 3, 10)
    time.sleep(1)
    assert call1(t, 'stats')['result']['ticks'] == 3  # each once


def test_durable_queues_keep_casts_across_a_broker_crash(procs):
    """[oslo_messaging_rabbit] amqp_durable_queues: the topic exchange and
    the topic and server queues are durable and casts persistent, so casts
    waiting for a stopped server survive the broker's kill -9 and reach the
    server when it comes back. Reply and fanout queues stay transient, as
    oslo's. (A RabbitMQ node of the test's own: the shared one stays up.)"""
    node = RabbitNode()
    node.start()
    t = topic()
    try:
        echo = procs.echo(t, 's1', '--queues', 'durable', url=node.url)
        qs = list_queues(t, t + '.s1', node=node.name)
        assert qs[t]['durable'] and qs[t + '.s1']['durable'], qs
        fanout = [q for q in subprocess.run(
            ['/usr/sbin/rabbitmqctl', '-q', '-n', node.name, 'list_queues', '-p', '/',
             'name', 'durable'], capture_output=True, text=True, check=True).stdout.splitlines()
            if q.startswith(t + '_fanout_')]
        assert fanout and all(q.split()[1] == 'false' for q in fanout), fanout
        echo.terminate()
        echo.wait(10)
        # Confirmed by the broker: rpc-call's flush waits for that.
        rpc_call(t, 'tick', {}, '--cast', '--count', '5', '--queues', 'durable',
                 url=node.url, check=True)
        assert list_queues(t, node=node.name)[t]['messages'] == 5
        node.kill9()
        node.start()
        assert list_queues(t, node=node.name)[t]['messages'] == 5
        procs.echo(t, 's1', '--queues', 'durable', url=node.url)
        wait_for(lambda: call1(t, 'stats', {}, '--queues', 'durable',
                               url=node.url)['result']['ticks'] == 5, 30)
    finally:
        procs.close()
        node.stop()


def test_quorum_queues(procs):
    """rabbit_quorum_queue: the topic and server queues are quorum queues
    (durable, replicated when the broker is a cluster); calls and casts
    work through them."""
    t, x = topic(), 'kumo-quorum-' + uuid.uuid4().hex[:8]
    try:
        procs.echo(t, 's1', '--queues', 'quorum', exchange=x)
        qs = list_queues(t, t + '.s1')
        assert qs[t]['type'] == 'quorum' and qs[t]['durable'], qs
        assert qs[t + '.s1']['type'] == 'quorum', qs
        rpc_call(t, 'tick', {}, '--cast', '--count', '4', '--queues', 'quorum',
                 exchange=x, check=True)
        wait_for(lambda: call1(t, 'stats', {}, '--queues', 'quorum',
                               exchange=x)['result']['ticks'] == 4, 20)
    finally:
        procs.close()
        delete_entities([t, t + '.s1'], [x])


def test_work_is_acked_after_it_ran(procs):
    """A delivery is acked once its request ran, not when it is read: a
    server killed -9 while a cast runs leaves it unacked, and the broker
    delivers it to the next server of the topic; what had finished (acked
    one by one behind the running one) is not delivered again."""
    t = topic()
    a = procs.echo(t, 'a', '--workers', '2')
    rpc_call(t, 'sleep', {'seconds': 8}, '--cast', check=True)
    wait_for(lambda: call1(t, 'stats', {}, '--timeout', '3000')['result']['sleeping'] == 1, 10)
    rpc_call(t, 'tick', {}, '--cast', '--count', '3', check=True)
    wait_for(lambda: call1(t, 'stats', {}, '--timeout', '3000')['result']['ticks'] == 3, 10)
    time.sleep(1)   # the reader's next turn (every 250 ms) acks the ticks
    a.kill()
    a.wait(10)
    procs.echo(t, 'b', '--workers', '2')
    # The sleep cast comes again, to b; the ticks do not.
    wait_for(lambda: call1(t, 'stats', {}, '--timeout', '3000')['result']['sleeping'] == 1, 15)
    assert call1(t, 'stats', {}, '--timeout', '3000')['result']['ticks'] == 0
