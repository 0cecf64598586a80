"""Run n of a service (counted in a file) lives for the n-th given seconds, then exits 1:
flapper.py COUNTER SECS... (the last duration repeats)."""
import sys
import time
from pathlib import Path

counter = Path(sys.argv[1])
run = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(run + 1))
durations = [float(s) for s in sys.argv[2:]]
print(f"flapper run {run}", flush=True)
time.sleep(durations[min(run, len(durations) - 1)])
sys.exit(1)
