#!/usr/bin/python3
"""A Python oslo.messaging RPC server with the same methods as rpc-echo, for
the interop tests: a kumo client (build/rpc-call) calls it.

  oslo_server.py [--url URL] [--exchange kumo] [--queues transient|durable|quorum]
                 TOPIC SERVER

Prints "oslo_server: consuming topic=T server=S" once the server runs;
stops on SIGTERM.
"""
import argparse
import os
import signal
import sys
import tempfile
import threading
import time

from oslo_config import cfg
import oslo_messaging

ap = argparse.ArgumentParser()
ap.add_argument('--url', default='rabbit://guest:guest@127.0.0.1:5672/')
ap.add_argument('--exchange', default='kumo')
ap.add_argument('--queues', default='transient', choices=('transient', 'durable', 'quorum'))
ap.add_argument('topic')
ap.add_argument('server')
args = ap.parse_args()


class Endpoint(object):
    target = oslo_messaging.Target(version='1.0')

    def __init__(self):
        self.lock = threading.Lock()
        self.ticks = 0

    def echo(self, ctxt, payload):
        return payload

    def fail(self, ctxt, message='boom'):
        raise ValueError(message)

    def sleep(self, ctxt, seconds):
        time.sleep(seconds)
        return seconds

    def whoami(self, ctxt):
        return args.server

    def context(self, ctxt):
        return ctxt

    def tick(self, ctxt):
        with self.lock:
            self.ticks += 1

    def stats(self, ctxt):
        with self.lock:
            return {'ticks': self.ticks}


def main():
    oslo_messaging.set_transport_defaults(control_exchange=args.exchange)
    conf = cfg.CONF
    # [oslo_messaging_rabbit] as an operator writes it, in a config file
    with tempfile.NamedTemporaryFile('w', suffix='.conf', delete=False) as f:
        f.write('[oslo_messaging_rabbit]\namqp_durable_queues = %s\n'
                'rabbit_quorum_queue = %s\n' % (args.queues == 'durable',
                                                 args.queues == 'quorum'))
    conf(['--config-file', f.name], project='kumo-interop')
    os.unlink(f.name)
    transport = oslo_messaging.get_rpc_transport(conf, url=args.url)
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    server = oslo_messaging.get_rpc_server(transport, target, [Endpoint()],
                                           executor='threading')
    server.start()
    print('oslo_server: consuming topic=%s server=%s' % (args.topic, args.server),
          flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.is_set():
        stop.wait(0.2)
    server.stop()
    server.wait()
    transport.cleanup()


if __name__ == '__main__':
    sys.exit(main())
