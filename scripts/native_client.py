#!/usr/bin/python3
"""Example client of the native ZeroMQ intake (ReportCase → ReportAck over DEALER/ROUTER).

    scripts/native_client.py [--endpoint tcp://127.0.0.1:5560] [--key demo-hotline-key] \
        [--ref 12345-0001] [--lat 26.0845 --lon 119.2960] DESCRIPTION

Frames: the client sends one frame, an Envelope with `report` set; the intake answers
one frame, an Envelope with `ack` (status 201 created, 200 already known, 4xx with
error_code/message/field, 503 when the store is down). request_id is echoed so a
client may keep many reports in flight on one socket."""
import argparse
import os
import sys
import uuid

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yxproto import bus_pb2  # noqa: E402


def report(sock, key, description, source="hotline", ref="", lat=None, lon=None, grid="", address="", timeout_ms=5000):
    """Sends one report and waits for its ack; returns the ReportAck."""
    env = bus_pb2.Envelope()
    r = env.report
    r.request_id = uuid.uuid4().hex
    r.api_key, r.source, r.source_ref, r.description = key, source, ref, description
    if lat is not None and lon is not None:
        r.lat, r.lon, r.has_point = lat, lon, True
    r.grid, r.address = grid, address
    sock.send(env.SerializeToString())
    if not sock.poll(timeout_ms):
        raise TimeoutError("the intake did not answer")
    answer = bus_pb2.Envelope()
    answer.ParseFromString(sock.recv())
    assert answer.WhichOneof("body") == "ack" and answer.ack.request_id == r.request_id
    return answer.ack


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", default="tcp://127.0.0.1:5560")
    p.add_argument("--key", default="demo-hotline-key")
    p.add_argument("--source", default="hotline")
    p.add_argument("--ref", default="")
    p.add_argument("--lat", type=float)
    p.add_argument("--lon", type=float)
    p.add_argument("--grid", default="")
    p.add_argument("--address", default="")
    p.add_argument("description")
    a = p.parse_args()
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(a.endpoint)
    ack = report(sock, a.key, a.description, a.source, a.ref, a.lat, a.lon, a.grid, a.address)
    if ack.status in (200, 201):
        print(f"{ack.status} {ack.case_id}")
        return 0
    print(f"{ack.status} {ack.error_code}: {ack.message} {ack.field}".rstrip(), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
