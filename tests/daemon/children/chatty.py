"""Print a numbered line every few milliseconds, forever: chatty.py [interval]."""
import sys
import time

interval = float(sys.argv[1]) if len(sys.argv) > 1 else 0.005
n = 0
while True:
    print(f"line {n} " + "x" * 100, flush=True)
    n += 1
    time.sleep(interval)
