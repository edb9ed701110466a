"""`make bench`: starts a private system on free ports and runs every benchmark
against it. Prints each figure with the command that produced it; no thresholds."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "system"))
from yxsys import ROOT, System  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
N = int(os.environ.get("YX_BENCH_CASES", "5000"))


def run(cmd, **kw):
    print("$ " + " ".join(cmd), flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    print(out.stdout.strip())
    if out.returncode:
        print(out.stderr.strip()[-2000:])
    return out


def main():
    bench = os.path.join(ROOT, BUILD, "bench")
    with tempfile.TemporaryDirectory() as tmp:
        s = System(tmp, bin_dir=os.path.join(ROOT, BUILD, "bin"),
                   settings={"intake.http_threads": 2, "sweep.interval_ms": 1000, "sweep.stale_ms": 5000, "intake.rate_per_s": 0,
                             "log.level": "warn"})
        s.start_all()
        try:
            print(f"## pipeline: {N} cases through intake → classifier → dispatcher → notifier feed")
            run([os.path.join(bench, "bench_pipeline"), s.url(""), s.settings["notifier.feed_bind"],
                 str(s.ports["redis"]), str(N), "16"])
            print("## pipeline, light load: 500 cases, one at a time (latency without queueing)")
            run([os.path.join(bench, "bench_pipeline"), s.url(""), s.settings["notifier.feed_bind"],
                 str(s.ports["redis"]), "500", "1"])
        finally:
            s.stop_all()
    with tempfile.TemporaryDirectory() as tmp:
        s = System(tmp, bin_dir=os.path.join(ROOT, BUILD, "bin"),
                   settings={"intake.http_threads": 2, "intake.rate_per_s": 0, "log.level": "warn"})
        s.start_all(["intake"])
        try:
            print(f"## intake alone: {N} reports over 16 keep-alive HTTP connections")
            run([os.path.join(bench, "bench_pipeline"), s.url(""), "-", str(s.ports["redis"]), str(N), "16"])
            print(f"## intake alone: {N} reports through the native ZeroMQ intake (64 in flight)")
            run([os.path.join(bench, "bench_native"), s.settings["intake.zmq_bind"], str(N), "64"])
        finally:
            s.stop_all()
    for name in sorted(os.listdir(bench)):
        if name.startswith("bench_") and name not in ("bench_pipeline", "bench_native"):
            print(f"## {name}")
            run([os.path.join(bench, name)], cwd=ROOT)
    extra = os.path.join(ROOT, "tests", "bench")
    for name in sorted(os.listdir(extra)):
        if name.startswith("bench_") and name.endswith(".py"):
            print(f"## {name}")
            run(["/usr/bin/python3", os.path.join(extra, name), BUILD], cwd=ROOT)


if __name__ == "__main__":
    main()
