"""Wire compatibility with Debian's python3-oslo.messaging, both ways:
a Python oslo RPCClient calls and casts to kumo's rpc-echo, and kumo's
rpc-call calls a Python oslo RPC server (oslo_server.py). Both use the
control exchange "kumo". These tests decide "compatible"."""
import os
import subprocess
import sys
import time
import uuid

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, '..', 'system'))
from rpchelp import (URL, Procs, call1, delete_entities, rpc_call, topic,  # noqa: E402
                     wait_for, wait_line)

oslo_messaging = pytest.importorskip('oslo_messaging')
from oslo_config import cfg  # noqa: E402

EXCHANGE = 'kumo'


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.close()


@pytest.fixture(scope='module')
def transport():
    oslo_messaging.set_transport_defaults(control_exchange=EXCHANGE)
    conf = cfg.CONF
    conf([], project='kumo-interop')
    tr = oslo_messaging.get_rpc_transport(conf, url=URL)
    yield tr
    tr.cleanup()


def client(transport, t, **kw):
    target = oslo_messaging.Target(topic=t, exchange=EXCHANGE, version='1.0')
    return oslo_messaging.get_rpc_client(transport, target, timeout=15, **kw)


CTXT = {'user_id': 'py-user', 'project_id': 'py-project', 'is_admin': True,
        'roles': ['admin'], 'request_id': 'req-' + str(uuid.uuid4()), 'custom': {'k': 1}}


def oslo_server(procs, t, server):
    p = procs.spawn(['/usr/bin/python3', os.path.join(HERE, 'oslo_server.py'), '--url', URL,
                     '--exchange', EXCHANGE, t, server],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_line(p, 'oslo_server: consuming', 30)
    return p


# ---- Python oslo client -> kumo server ----------------------------------------

def test_oslo_calls_kumo_echo(procs, transport):
    t = topic()
    procs.echo(t, 'k1', exchange=EXCHANGE)
    c = client(transport, t)
    payload = {'list': [1, 'two', None, 3.5], 'uni': '\u00e9\u4e2d', 'nested': {'a': {}}}
    assert c.call(CTXT, 'echo', payload=payload) == payload
    assert c.prepare(server='k1').call(CTXT, 'whoami') == 'k1'


def test_oslo_context_reaches_kumo(procs, transport):
    t = topic()
    procs.echo(t, 'k1', exchange=EXCHANGE)
    got = client(transport, t).call(CTXT, 'context')
    assert got['request_id'] == CTXT['request_id']
    assert (got['user_id'], got['project_id'], got['is_admin']) == ('py-user', 'py-project', True)
    assert got['roles'] == ['admin']
    assert got['extra']['custom'] == {'k': 1}


def test_oslo_gets_kumo_errors(procs, transport):
    t = topic()
    procs.echo(t, 'k1', exchange=EXCHANGE)
    c = client(transport, t)
    # builtins.ValueError is rebuilt as a ValueError on the Python side.
    with pytest.raises(ValueError) as e:
        c.call(CTXT, 'fail', message='kaboom')
    assert 'kaboom' in str(e.value)
    with pytest.raises(oslo_messaging.RemoteError) as e:
        c.call(CTXT, 'no_such_method')
    assert e.value.exc_type == 'NoSuchMethod'
    assert 'Endpoint does not support RPC method no_such_method' in e.value.value
    with pytest.raises(oslo_messaging.MessagingTimeout):
        c.prepare(timeout=1).call(CTXT, 'sleep', seconds=3)


def test_oslo_call_monitor_heartbeats(procs, transport):
    """oslo's call_monitor_timeout needs the server's ending:false heartbeats."""
    t = topic()
    procs.echo(t, 'k1', exchange=EXCHANGE)
    c = client(transport, t).prepare(timeout=15, call_monitor_timeout=2)
    assert c.call(CTXT, 'sleep', seconds=4) == 4


def test_oslo_casts_to_kumo(procs, transport):
    t = topic()
    procs.echo(t, 'k1', exchange=EXCHANGE)
    c = client(transport, t)
    for _ in range(10):
        c.cast(CTXT, 'tick')
    wait_for(lambda: c.call(CTXT, 'stats')['ticks'] == 10, 10)


def test_oslo_fanout_to_kumo_servers(procs, transport):
    t = topic()
    for s in ('k1', 'k2', 'k3'):
        procs.echo(t, s, exchange=EXCHANGE)
    c = client(transport, t)
    c.prepare(fanout=True).cast(CTXT, 'tick')
    for s in ('k1', 'k2', 'k3'):
        wait_for(lambda: c.prepare(server=s).call(CTXT, 'stats')['ticks'] == 1, 10)


# ---- kumo client -> Python oslo server ----------------------------------------

def test_kumo_calls_oslo_server(procs):
    t = topic()
    oslo_server(procs, t, 'py1')
    payload = {'a': [1, 2, {'b': None}], 'u': '\u00e9'}
    r = call1(t, 'echo', {'payload': payload}, '--version', '1.0', exchange=EXCHANGE)
    assert r['ok'] and r['result'] == payload
    r = call1(t, 'whoami', {}, '--server', 'py1', exchange=EXCHANGE)
    assert r['result'] == 'py1'
    lines = rpc_call(t, 'echo', {'payload': 7}, '--threads', '8', '--count', '100',
                     exchange=EXCHANGE, check=True)
    assert lines[-1]['summary']['ok'] == 100


def test_kumo_context_reaches_oslo(procs):
    t = topic()
    oslo_server(procs, t, 'py1')
    rid = 'req-' + str(uuid.uuid4())
    r = call1(t, 'context', {}, '--request-id', rid, '--user', 'alice', '--project', 'p9',
              exchange=EXCHANGE)
    ctx = r['result']
    assert ctx['request_id'] == rid
    assert ctx['user_id'] == 'alice' and ctx['user'] == 'alice'
    assert ctx['project_id'] == 'p9' and ctx['roles'] == ['member']


def test_kumo_gets_oslo_errors(procs):
    t = topic()
    oslo_server(procs, t, 'py1')
    r = call1(t, 'fail', {'message': 'py boom'}, exchange=EXCHANGE)
    assert (r['kind'], r['class'], r['module'], r['message']) == \
        ('remote', 'ValueError', 'builtins', 'py boom')
    r = call1(t, 'nope', {}, exchange=EXCHANGE)
    assert r['class'] == 'NoSuchMethod'
    assert r['message'] == 'Endpoint does not support RPC method nope'
    r = call1(t, 'sleep', {'seconds': 2}, '--timeout', '500', exchange=EXCHANGE)
    assert r['kind'] == 'timeout'


def test_kumo_casts_and_fanout_to_mixed_servers(procs):
    """One topic served by two oslo servers and one kumo server: the
    declarations agree (no PRECONDITION_FAILED) and fanout reaches all."""
    t = topic()
    oslo_server(procs, t, 'py1')
    oslo_server(procs, t, 'py2')
    procs.echo(t, 'k1', exchange=EXCHANGE)
    r = call1(t, 'tick', {}, '--fanout', exchange=EXCHANGE)
    assert r['ok']
    for s in ('py1', 'py2', 'k1'):
        wait_for(lambda: call1(t, 'stats', {}, '--server', s,
                               exchange=EXCHANGE)['result']['ticks'] == 1, 10)
    lines = rpc_call(t, 'tick', {}, '--cast', '--count', '30', exchange=EXCHANGE, check=True)
    assert lines[-1]['summary']['ok'] == 30

    def total():
        return sum(call1(t, 'stats', {}, '--server', s, exchange=EXCHANGE)['result']['ticks']
                   for s in ('py1', 'py2', 'k1'))
    wait_for(lambda: total() == 33, 15, 0.5)
    # Calls without a server are shared by the oslo and the kumo servers.
    seen = {x['result'] for x in rpc_call(t, 'whoami', {}, '--count', '60',
                                           exchange=EXCHANGE, check=True)[:-1]}
    assert seen == {'py1', 'py2', 'k1'}


# ---- durable and quorum queues, as oslo declares them ---------------------------

@pytest.mark.parametrize('queues', ['durable', 'quorum'])
def test_durable_queues_both_ways(procs, queues):
    """With [oslo_messaging_rabbit] amqp_durable_queues (or
    rabbit_quorum_queue) on both sides, kumo and oslo declare the same
    exchange and queues alike (any difference and the broker closes the
    channel: PRECONDITION_FAILED): kumo casts to an oslo server, an oslo
    client casts and calls to a kumo server."""
    x = 'kumo-%s-%s' % (queues, uuid.uuid4().hex[:8])
    t1, t2 = topic(), topic()
    try:
        p = procs.spawn(['/usr/bin/python3', os.path.join(HERE, 'oslo_server.py'),
                         '--url', URL, '--exchange', x, '--queues', queues, t1, 'py1'],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_line(p, 'oslo_server: consuming', 30)
        rpc_call(t1, 'tick', {}, '--cast', '--count', '3', '--queues', queues,
                 exchange=x, check=True)
        wait_for(lambda: call1(t1, 'stats', {}, '--queues', queues,
                               exchange=x)['result']['ticks'] == 3, 20)

        procs.echo(t2, 'k1', '--queues', queues, exchange=x)
        conf = cfg.ConfigOpts()
        tr = oslo_messaging.get_rpc_transport(conf, url=URL)
        conf.set_override('amqp_durable_queues', queues == 'durable',
                          group='oslo_messaging_rabbit')
        conf.set_override('rabbit_quorum_queue', queues == 'quorum',
                          group='oslo_messaging_rabbit')
        try:
            c = oslo_messaging.get_rpc_client(
                tr, oslo_messaging.Target(topic=t2, exchange=x, version='1.0'), timeout=15)
            for _ in range(4):
                c.cast(CTXT, 'tick')
            wait_for(lambda: c.call(CTXT, 'stats')['ticks'] == 4, 20)
        finally:
            tr.cleanup()
    finally:
        procs.close()
        delete_entities([t1, t1 + '.py1', t2, t2 + '.k1'], [x])
