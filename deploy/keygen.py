#!/usr/bin/env python3
"""Makes ZeroMQ CURVE key pairs with nothing but Python's standard library.

    deploy/keygen.py            prints "<secret> <public>", both Z85 (40 characters)
    deploy/keygen.py SECRET     prints the public key of a Z85 secret key

The public key is X25519(secret, 9) (RFC 7748), exactly what libzmq's
zmq_curve_keypair() and zmq_curve_public() compute, so deploy/local.sh and
deploy/docker/secrets.sh can make keys on a host without libzmq or a build.
A university system that subscribes to events makes its key pair with this
(or with zmq_curve_keypair) and hands the public key to the operator, who
adds it to ITGOV_EVENT_CLIENT_KEYS.
"""
import os
import sys

P = 2**255 - 19
A24 = 121665
Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"


def x25519(k: bytes, u: int) -> bytes:
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    scalar = int.from_bytes(k, "little")
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(255)):
        bit = (scalar >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P, (x2 - z2) % P
        aa, bb = a * a % P, b * b % P
        e = (aa - bb) % P
        c, d = (x3 + z3) % P, (x3 - z3) % P
        da, cb = d * a % P, c * b % P
        x3 = (da + cb) ** 2 % P
        z3 = x1 * (da - cb) ** 2 % P
        x2 = aa * bb % P
        z2 = e * (aa + A24 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


def z85_encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data), 4):
        v = int.from_bytes(data[i:i + 4], "big")
        chunk = []
        for _ in range(5):
            chunk.append(Z85[v % 85])
            v //= 85
        out.extend(reversed(chunk))
    return "".join(out)


def z85_decode(text: str) -> bytes:
    if len(text) % 5 or any(c not in Z85 for c in text):
        raise ValueError("not Z85")
    out = bytearray()
    for i in range(0, len(text), 5):
        v = 0
        for c in text[i:i + 5]:
            v = v * 85 + Z85.index(c)
        out += v.to_bytes(4, "big")
    return bytes(out)


def public_of(secret: bytes) -> bytes:
    return x25519(secret, 9)


def main() -> int:
    if len(sys.argv) == 2:
        try:
            secret = z85_decode(sys.argv[1].strip())
        except ValueError:
            secret = b""
        if len(secret) != 32:
            print("keygen.py: the secret key must be 40 Z85 characters", file=sys.stderr)
            return 2
        print(z85_encode(public_of(secret)))
        return 0
    secret = os.urandom(32)
    print(z85_encode(secret), z85_encode(public_of(secret)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
