#!/usr/bin/env python3
"""An independent implementation of sealed-session envelope v1, written from
SECURITY.md alone. It writes the known-answer vectors in v1.txt and checks
that it can open them (and the frozen values in frozen.txt).

    pip install pynacl cryptography
    python3 tests/vectors/reference_v1.py > tests/vectors/v1.txt
    python3 tests/vectors/reference_v1.py --check
"""
import base64
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)

VERSION = 1


def leb128(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_leb128(data, at, max_len):
    n, shift = 0, 0
    for i in range(max_len):
        b = data[at + i]
        n |= (b & 0x7F) << shift
        shift += 7
        if b & 0x80 == 0:
            if i > 0 and b == 0:
                raise ValueError("non-canonical")
            return n, at + i + 1
    raise ValueError("too long")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def context(name, purpose):
    n, p = name.encode(), purpose.encode()
    return leb128(len(n)) + n + leb128(len(p)) + p


def seal(alg, key, key_id, name, purpose, nonce, issued_at, expires_at, payload):
    header = bytes([VERSION]) + leb128(key_id)
    aad = header + context(name, purpose)
    plaintext = leb128(issued_at) + leb128(expires_at - issued_at) + payload
    if alg == "xchacha20poly1305":
        assert len(nonce) == 24
        sealed = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)
    else:
        assert len(nonce) == 12
        sealed = AESGCM(key).encrypt(nonce, plaintext, aad)
    return b64(header + nonce + sealed), aad, plaintext


def open_(keys, name, purpose, value):
    data = unb64(value)
    if b64(data) != value:
        raise ValueError("not canonical base64url")
    if data[0] != VERSION:
        raise ValueError("version")
    key_id, at = read_leb128(data, 1, 5)
    alg, key = keys[key_id]
    nonce_len = 24 if alg == "xchacha20poly1305" else 12
    header, nonce, sealed = data[:at], data[at:at + nonce_len], data[at + nonce_len:]
    aad = header + context(name, purpose)
    if alg == "xchacha20poly1305":
        plaintext = crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, aad, nonce, key)
    else:
        plaintext = AESGCM(key).decrypt(nonce, sealed, aad)
    issued_at, at = read_leb128(plaintext, 0, 10)
    lifetime, at = read_leb128(plaintext, at, 10)
    return issued_at, issued_at + lifetime, plaintext[at:]


VECTORS = [
    dict(comment="xchacha20poly1305, empty payload, empty purpose",
         algorithm="xchacha20poly1305", key_id=1, key=bytes(range(32)),
         name="session", purpose="", nonce=bytes(range(0x40, 0x58)),
         issued_at=1_800_000_000, expires_at=1_800_086_400, payload=b""),
    dict(comment="xchacha20poly1305, two-byte key id, __Host- name, purpose",
         algorithm="xchacha20poly1305", key_id=300, key=bytes(range(0x80, 0xA0)),
         name="__Host-sid", purpose="shop/session/v3", nonce=bytes(24),
         issued_at=1_795_714_347, expires_at=1_796_923_947,
         payload=b"\x87\xa5\x81\x02\x05alice"),
    dict(comment="aes256gcm, key id 0",
         algorithm="aes256gcm", key_id=0, key=bytes([0x42] * 32),
         name="session", purpose="app/v1", nonce=bytes(range(12)),
         issued_at=1_800_000_000, expires_at=1_800_000_060,
         payload=b"hello, session"),
    dict(comment="aes256gcm, 200-byte payload, largest u32 key id",
         algorithm="aes256gcm", key_id=4_294_967_295, key=bytes(range(32, 64)),
         name="id", purpose="", nonce=bytes([0xFF] * 12),
         issued_at=0, expires_at=4_102_444_800,
         payload=bytes(i % 251 for i in range(200))),
    dict(comment="xchacha20poly1305, the small benchmark session in postcard",
         algorithm="xchacha20poly1305", key_id=7, key=bytes([7] * 32),
         name="session", purpose="bench/v1", nonce=bytes([0xA5] * 24),
         issued_at=1_764_000_000, expires_at=1_765_209_600,
         payload=bytes.fromhex(
             "89858102"  # user_id 4_211_337 (LEB128)
             + "11" + b"alice@example.com".hex()
             + "02" + "05" + b"admin".hex() + "06" + b"editor".hex()
             + "07" * 32
             + "808292c906"  # issued_at 1_764_000_000 (LEB128)
             + "01" + "0d" + b"Welcome back!".hex())),
]


def main():
    if "--check" in sys.argv:
        check()
        return
    print("# sealed-session envelope v1 known-answer vectors (see SECURITY.md).")
    print("# Binary fields are lowercase hex; key is unpadded base64url; times are unix seconds.")
    print("# Written by tests/vectors/reference_v1.py, an independent implementation.")
    for v in VECTORS:
        value, aad, plaintext = seal(v["algorithm"], v["key"], v["key_id"], v["name"], v["purpose"],
                                     v["nonce"], v["issued_at"], v["expires_at"], v["payload"])
        print()
        print(f"comment = {v['comment']}")
        print(f"algorithm = {v['algorithm']}")
        print(f"key_id = {v['key_id']}")
        print(f"key = {b64(v['key'])}")
        print(f"name = {v['name']}")
        print(f"purpose = {v['purpose']}")
        print(f"nonce = {v['nonce'].hex()}")
        print(f"issued_at = {v['issued_at']}")
        print(f"expires_at = {v['expires_at']}")
        print(f"payload = {v['payload'].hex()}")
        print(f"aad = {aad.hex()}")
        print(f"plaintext = {plaintext.hex()}")
        print(f"value = {value}")


def parse(path):
    blocks = open(path).read().split("\n\n")
    out = []
    for block in blocks:
        fields = {}
        for line in block.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            k, _, v = line.partition("=")
            fields[k.strip()] = v.strip()
        if fields:
            out.append(fields)
    return out


def check():
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    for v in parse(os.path.join(here, "v1.txt")):
        keys = {int(v["key_id"]): (v["algorithm"], unb64(v["key"]))}
        issued, expires, payload = open_(keys, v["name"], v["purpose"], v["value"])
        assert (issued, expires, payload.hex()) == (int(v["issued_at"]), int(v["expires_at"]), v["payload"])
    frozen = os.path.join(here, "frozen.txt")
    if os.path.exists(frozen):
        for v in parse(frozen):
            keys = {}
            for entry in v["keyring"].split():
                kid, alg, key = entry.split(":")
                keys[int(kid)] = (alg, unb64(key))
            issued, expires, payload = open_(keys, v["name"], v["purpose"], v["value"])
            assert payload.hex() == v["payload"], v["comment"]
            assert (issued, expires) == (int(v["issued_at"]), int(v["expires_at"])), v["comment"]
    print("all vectors open")


if __name__ == "__main__":
    main()
