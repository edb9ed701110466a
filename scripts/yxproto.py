"""Loads the Yixian bus schema (proto/yixian/v1/bus.proto) as Python classes.

Compiles the .proto with Debian's protoc into a private cache folder the first time,
so Python adapters need nothing but python3-protobuf and protoc:

    from yxproto import bus_pb2
    env = bus_pb2.Envelope()
"""
import importlib
import os
import subprocess
import sys
import tempfile

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
_PROTO = os.path.join(_ROOT, "proto")


def _load():
    out = os.path.join(tempfile.gettempdir(), f"yixian-proto-{os.getuid()}")
    target = os.path.join(out, "yixian", "v1", "bus_pb2.py")
    source = os.path.join(_PROTO, "yixian", "v1", "bus.proto")
    if not os.path.exists(target) or os.path.getmtime(target) < os.path.getmtime(source):
        os.makedirs(out, exist_ok=True)
        subprocess.run(["protoc", f"--proto_path={_PROTO}", f"--python_out={out}", source], check=True)
    if out not in sys.path:
        sys.path.insert(0, out)
    return importlib.import_module("yixian.v1.bus_pb2")


bus_pb2 = _load()
