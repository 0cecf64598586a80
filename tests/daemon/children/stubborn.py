"""Ignore SIGTERM, fork a grandchild in the group and one that leaves it with setsid."""
import os
import signal
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
pids_file = sys.argv[1]
kids = []
for leave_group in (False, True):
    pid = os.fork()
    if pid == 0:
        if leave_group:
            os.setsid()
            if os.fork():  # double fork: the daemon-style escape
                os._exit(0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with open(pids_file, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(3600)
        os._exit(0)
    kids.append(pid)
with open(pids_file, "a") as fh:
    fh.write(f"{os.getpid()}\n")
print("stubborn up", flush=True)
while True:
    time.sleep(3600)
