"""Write this process's environment as JSON to a file, then sleep: env_dump.py path [secs]."""
import json
import os
import sys
import time

with open(sys.argv[1] + ".tmp", "w") as fh:
    json.dump(dict(os.environ), fh)
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 3600)
