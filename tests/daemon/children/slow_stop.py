"""Take a while to stop: on SIGTERM sleep, then exit: slow_stop.py [delay]."""
import signal
import sys
import time

delay = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0


def leave(_sig: int, _frame: object) -> None:
    time.sleep(delay)
    sys.exit(0)


signal.signal(signal.SIGTERM, leave)
print("slow_stop up", flush=True)
while True:
    time.sleep(3600)
