"""The native ZeroMQ intake, driven by the documented example client."""
import os
import sys

import zmq

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import native_client  # noqa: E402


def test_native_reports_and_errors(yx):
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(yx.settings["intake.zmq_bind"])
    try:
        ack = native_client.report(sock, "demo-hotline-key", "鼓楼区某小区井盖冒污水", ref="N-1", lat=26.0845, lon=119.2960)
        assert ack.status == 201 and ack.case_id.startswith("350102-")
        again = native_client.report(sock, "demo-hotline-key", "鼓楼区某小区井盖冒污水", ref="N-1", lat=26.0845, lon=119.2960)
        assert again.status == 200 and again.case_id == ack.case_id
        yx.wait_state(ack.case_id, "DISPATCHED")
        bad = native_client.report(sock, "wrong-key", "x", lat=26.0845, lon=119.2960)
        assert bad.status == 401 and bad.error_code == "unauthorized"
        missing = native_client.report(sock, "demo-hotline-key", "", lat=26.0845, lon=119.2960)
        assert (missing.status, missing.error_code, missing.field) == (422, "missing_field", "description")
        noloc = native_client.report(sock, "demo-hotline-key", "路灯不亮")
        assert (noloc.status, noloc.error_code) == (422, "location_required")
        other = native_client.report(sock, "demo-hotline-key", "x", source="app", lat=26.0845, lon=119.2960)
        assert other.status == 403
    finally:
        sock.close()
