"""Print a line, then sleep; exit with a code after a while if asked: sleeper.py [secs] [code]."""
import sys
import time

print("sleeper up", flush=True)
print("to stderr", file=sys.stderr, flush=True)
seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3600
time.sleep(seconds)
sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
