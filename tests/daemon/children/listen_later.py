"""Open a TCP port on 127.0.0.1 after a delay: listen_later.py port delay."""
import socket
import sys
import time

time.sleep(float(sys.argv[2]))
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", int(sys.argv[1])))
sock.listen()
print("listening", flush=True)
while True:
    conn, _ = sock.accept()
    conn.close()
