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
                   settings={"intake.http_threads": 2, "sweep.interval_ms": 1000, "sweep.stale_ms": 5000,
                             "log.level": "warn"})
        s.start_all()
        try:
            print(f"## pipeline: {N} cases through intake → classifier → dispatcher → notifier feed")
            run([os.path.join(bench, "bench_pipeline"), s.url(""), s.settings["notifier.feed_bind"],
                 str(s.ports["redis"]), str(N), "16"])
        finally:
            s.stop_all()
    for name in sorted(os.listdir(bench)):
        if name.startswith("bench_") and name != "bench_pipeline":
            print(f"## {name}")
            run([os.path.join(bench, name)], cwd=ROOT)
    extra = os.path.join(ROOT, "tests", "bench")
    for name in sorted(os.listdir(extra)):
        if name.startswith("bench_") and name.endswith(".py"):
            print(f"## {name}")
            run(["/usr/bin/python3", os.path.join(extra, name), BUILD], cwd=ROOT)


if __name__ == "__main__":
    main()
