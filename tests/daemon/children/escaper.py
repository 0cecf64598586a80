"""Leave a descendant behind that double-forks, calls setsid and clears its environment.

escaper.py pids_file: the escaped process writes its pid, then execs ``sleep`` with an
empty environment (no TRADERCTL_* markers left); the main process stays up.
"""
import os
import sys
import time

pids_file = sys.argv[1]
if os.fork() == 0:
    os.setsid()
    if os.fork():
        os._exit(0)
    with open(pids_file, "a") as fh:
        fh.write(f"{os.getpid()}\n")
    os.execve("/bin/sleep", ["sleep", "3600"], {})
print("escaper up", flush=True)
while True:
    time.sleep(3600)
