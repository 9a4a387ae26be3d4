#!/usr/bin/env python3
"""An independent implementation of sealed-session envelope v1, written from
SECURITY.md alone. It writes the known-answer vectors in v1.txt and the
authentic-but-malformed values in v1_malformed.txt, and checks that it opens
the former (and the frozen values in frozen.txt) and refuses the latter.

    pip install pynacl cryptography
    python3 tests/vectors/reference_v1.py > tests/vectors/v1.txt
    python3 tests/vectors/reference_v1.py --malformed > tests/vectors/v1_malformed.txt
    python3 tests/vectors/reference_v1.py --check
"""
import base64
import hashlib
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
        if at + i >= len(data):
            raise ValueError("truncated")
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
    plaintext = leb128(issued_at) + leb128(expires_at - issued_at) + payload
    return seal_plaintext(alg, key, key_id, name, purpose, nonce, plaintext)


def seal_plaintext(alg, key, key_id, name, purpose, nonce, plaintext):
    header = bytes([VERSION]) + leb128(key_id)
    aad = header + context(name, purpose)
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
    # Step 6: canonical LEB128 of at most 10 bytes, each a u64, and a sum
    # that fits a u64; anything else is Malformed.
    issued_at, at = read_leb128(plaintext, 0, 10)
    lifetime, at = read_leb128(plaintext, at, 10)
    if issued_at >= 2**64 or lifetime >= 2**64 or issued_at + lifetime >= 2**64:
        raise ValueError("time out of range")
    return issued_at, issued_at + lifetime, plaintext[at:]


class Malformed(Exception):
    pass


def open_times(keys, name, purpose, value):
    """Decrypts (an authentication failure raises InvalidTag or
    CryptoError), then reads the times: a problem there is Malformed."""
    data = unb64(value)
    key_id, at = read_leb128(data, 1, 5)
    alg, key = keys[key_id]
    nonce_len = 24 if alg == "xchacha20poly1305" else 12
    header, nonce, sealed = data[:at], data[at:at + nonce_len], data[at + nonce_len:]
    aad = header + context(name, purpose)
    if alg == "xchacha20poly1305":
        crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, aad, nonce, key)
    else:
        AESGCM(key).decrypt(nonce, sealed, aad)
    try:
        return open_(keys, name, purpose, value)
    except ValueError as e:
        raise Malformed(str(e))


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


# Authentic values (sealed under the key, so they pass step 5) whose
# plaintext breaks step 6. The keys are random-looking (derived from a
# label), so they load through the checked paths.
def derived_key(label):
    return hashlib.sha256(b"sealed-session v1 malformed vectors: " + label.encode()).digest()


U64_MAX = 2**64 - 1
ISSUED = leb128(1_800_000_000)  # 80 a4 a7 da 06
DAY = leb128(86_400)            # 80 a3 05

MALFORMED = [
    ("empty plaintext: no issued_at", b"", "Malformed"),
    ("issued_at cut off (continuation bit on the last byte)", bytes.fromhex("80a4a7da86"), "Malformed"),
    ("no lifetime", ISSUED, "Malformed"),
    ("lifetime cut off", ISSUED + bytes.fromhex("80a3"), "Malformed"),
    ("issued_at not canonical (trailing zero group)", bytes.fromhex("80a4a7da8600") + DAY, "Malformed"),
    ("issued_at 0 written as two bytes", bytes.fromhex("8000") + DAY, "Malformed"),
    ("lifetime not canonical (trailing zero group)", ISSUED + bytes.fromhex("80a38500"), "Malformed"),
    ("issued_at longer than 10 bytes", bytes.fromhex("81808080808080808080" + "01") + DAY, "Malformed"),
    ("lifetime longer than 10 bytes", ISSUED + bytes.fromhex("80808080808080808080" + "01"), "Malformed"),
    ("issued_at 2^64 (10 bytes, over a u64)", bytes.fromhex("80808080808080808002") + DAY, "Malformed"),
    ("lifetime 2^64 (10 bytes, over a u64)", ISSUED + bytes.fromhex("80808080808080808002"), "Malformed"),
    ("issued_at + lifetime overflows a u64", leb128(U64_MAX) + leb128(1), "Malformed"),
    ("issued_at + lifetime overflows a u64 (both large)", leb128(2**63) + leb128(2**63) + b"x", "Malformed"),
    ("control: issued_at + lifetime = 2^64 - 1 is in range (issued in the future)",
     leb128(U64_MAX - 5) + leb128(5), "NotYetValid"),
]


def malformed_vectors():
    out = []
    for i, (comment, plaintext, error) in enumerate(MALFORMED):
        alg = "xchacha20poly1305" if i % 2 == 0 else "aes256gcm"
        key = derived_key(alg)
        nonce_len = 24 if alg == "xchacha20poly1305" else 12
        nonce = bytes((i * 16 + j) % 256 for j in range(nonce_len))
        key_id = 3 if alg == "xchacha20poly1305" else 4
        value, _, _ = seal_plaintext(alg, key, key_id, "session", "malformed/v1", nonce, plaintext)
        out.append(dict(comment=comment, algorithm=alg, key_id=key_id, key=b64(key),
                        name="session", purpose="malformed/v1", nonce=nonce.hex(),
                        plaintext=plaintext.hex(), value=value, error=error))
    return out


def print_malformed():
    print("# sealed-session envelope v1: authentic values with bad times (SECURITY.md,")
    print("# \"To open a value\", step 6). Each is sealed under its key, so it passes")
    print("# authentication; opening it must fail with the error named (Malformed,")
    print("# except for the in-range control), at any time of opening.")
    print("# Binary fields are lowercase hex; key is unpadded base64url.")
    print("# Written by tests/vectors/reference_v1.py --malformed.")
    for v in malformed_vectors():
        print()
        for field in ("comment", "algorithm", "key_id", "key", "name", "purpose",
                      "nonce", "plaintext", "value", "error"):
            print(f"{field} = {v[field]}")


def main():
    if "--check" in sys.argv:
        check()
        return
    if "--malformed" in sys.argv:
        print_malformed()
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
    malformed = os.path.join(here, "v1_malformed.txt")
    if os.path.exists(malformed):
        for v in parse(malformed):
            keys = {int(v["key_id"]): (v["algorithm"], unb64(v["key"]))}
            if v["error"] == "Malformed":
                try:
                    open_times(keys, v["name"], v["purpose"], v["value"])
                except Malformed:
                    continue
                raise AssertionError("opened: " + v["comment"])
            open_times(keys, v["name"], v["purpose"], v["value"])
    print("all vectors open; every malformed vector authenticates and is refused")


if __name__ == "__main__":
    main()
