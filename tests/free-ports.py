#!/usr/bin/env python3
"""Prints N distinct TCP ports free on 127.0.0.1 now, chosen at random in
20000-31999: outside the kernel's ephemeral range (32768-60999), so no
outgoing connection takes one before its server binds it.
Usage: tests/free-ports.py N   (used by tests/run.sh and tests/bench/*.sh)"""
import random
import socket
import sys

n, ports, socks = int(sys.argv[1]), [], []
for p in random.sample(range(20000, 32000), 400):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    socks.append(s)  # held until all are chosen, so no port comes twice
    ports.append(p)
    if len(ports) == n:
        break
print(" ".join(map(str, ports)))
