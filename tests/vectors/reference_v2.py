#!/usr/bin/env python3
"""An independent implementation of sealed-session envelope v2 (padded) and
of the reassembly of a session sent over several cookies, written from
SECURITY.md alone ("Envelope v2: padding" and "Sessions over several
cookies"). It reuses reference_v1.py's LEB128, base64url and AEAD calls.

    pip install pynacl cryptography
    python3 tests/vectors/reference_v2.py > tests/vectors/v2.txt
    python3 tests/vectors/reference_v2.py --chunks > tests/vectors/chunks.txt
    python3 tests/vectors/reference_v2.py --check
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_v1 import (  # noqa: E402
    AESGCM, b64, context, crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt, derived_key, leb128, parse,
    read_leb128, unb64,
)
import reference_v1  # noqa: E402


def seal_v2_plaintext(alg, key, key_id, name, purpose, nonce, plaintext):
    header = bytes([2]) + leb128(key_id)
    aad = header + context(name, purpose)
    if alg == "xchacha20poly1305":
        sealed = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)
    else:
        sealed = AESGCM(key).encrypt(nonce, plaintext, aad)
    return b64(header + nonce + sealed), aad


def v2_plaintext(issued_at, expires_at, payload, padding):
    return (leb128(issued_at) + leb128(expires_at - issued_at) + leb128(len(payload))
            + payload + bytes(padding))


class Malformed(Exception):
    pass


def open_any(keys, name, purpose, value):
    """Opens a v1 or v2 value: (issued_at, expires_at, payload). Raises
    Malformed for a plaintext that breaks step 6 or the v2 payload rule."""
    data = unb64(value)
    if b64(data) != value:
        raise ValueError("not canonical base64url")
    version = data[0]
    if version not in (1, 2):
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
    try:
        issued_at, at = read_leb128(plaintext, 0, 10)
        lifetime, at = read_leb128(plaintext, at, 10)
        if issued_at >= 2**64 or lifetime >= 2**64 or issued_at + lifetime >= 2**64:
            raise ValueError("time out of range")
        rest = plaintext[at:]
        if version == 2:
            length, at = read_leb128(rest, 0, 10)
            if length > len(rest) - at:
                raise ValueError("payload past the end")
            payload, padding = rest[at:at + length], rest[at + length:]
            if any(padding):
                raise ValueError("padding not zero")
            rest = payload
    except ValueError as e:
        raise Malformed(str(e))
    return issued_at, issued_at + lifetime, rest


V2 = [
    dict(comment="xchacha20poly1305, padded to 64 bytes of plaintext",
         algorithm="xchacha20poly1305", key_id=1, key=bytes(range(32)),
         name="session", purpose="", nonce=bytes(range(0x40, 0x58)),
         issued_at=1_800_000_000, expires_at=1_800_086_400,
         payload=b"\x05alice", padding=64 - 8 - 1 - 6),
    dict(comment="aes256gcm, no padding bytes (a class of 1), __Host- name",
         algorithm="aes256gcm", key_id=300, key=bytes([0x42] * 32),
         name="__Host-sid", purpose="shop/session/v3", nonce=bytes(range(12)),
         issued_at=1_795_714_347, expires_at=1_796_923_947,
         payload=b"\x87\xa5\x81\x02\x05alice", padding=0),
    dict(comment="xchacha20poly1305, empty payload, 200 bytes of padding (a two-byte length would not be needed)",
         algorithm="xchacha20poly1305", key_id=7, key=bytes([7] * 32),
         name="session", purpose="pad/v2", nonce=bytes([0xA5] * 24),
         issued_at=1_764_000_000, expires_at=1_765_209_600,
         payload=b"", padding=200),
    dict(comment="aes256gcm, 300-byte payload (two-byte length), padded to 512",
         algorithm="aes256gcm", key_id=0, key=bytes(range(32, 64)),
         name="id", purpose="", nonce=bytes([0xFF] * 12),
         issued_at=0, expires_at=4_102_444_800,
         payload=bytes(i % 251 for i in range(300)), padding=512 - 1 - 5 - 2 - 300),
]

ISSUED = leb128(1_800_000_000)
DAY = leb128(86_400)

V2_MALFORMED = [
    ("no payload length", ISSUED + DAY, "Malformed"),
    ("payload length past the end", ISSUED + DAY + b"\x05abcd", "Malformed"),
    ("padding byte not zero", ISSUED + DAY + b"\x02ab\x00\x00\x01", "Malformed"),
    ("padding byte 0x80", ISSUED + DAY + b"\x02ab\x80", "Malformed"),
    ("payload length not canonical", ISSUED + DAY + b"\x82\x00ab", "Malformed"),
    ("payload length longer than 10 bytes", ISSUED + DAY + bytes.fromhex("8080808080808080808000"), "Malformed"),
    ("control: a two-byte payload and three zero bytes", ISSUED + DAY + b"\x02ab\x00\x00\x00", "Opens"),
]


def print_v2():
    print("# sealed-session envelope v2 (padded) known-answer vectors, and authentic")
    print("# v2 values whose payload length or padding is malformed (see SECURITY.md).")
    print("# Binary fields are lowercase hex; key is unpadded base64url; times are unix seconds.")
    print("# Written by tests/vectors/reference_v2.py, an independent implementation.")
    for v in V2:
        plaintext = v2_plaintext(v["issued_at"], v["expires_at"], v["payload"], v["padding"])
        value, aad = seal_v2_plaintext(v["algorithm"], v["key"], v["key_id"], v["name"],
                                       v["purpose"], v["nonce"], plaintext)
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
        print(f"padding = {v['padding']}")
        print(f"aad = {aad.hex()}")
        print(f"plaintext = {plaintext.hex()}")
        print(f"value = {value}")
    for i, (comment, plaintext, error) in enumerate(V2_MALFORMED):
        alg = "xchacha20poly1305" if i % 2 == 0 else "aes256gcm"
        key = derived_key(alg)
        nonce_len = 24 if alg == "xchacha20poly1305" else 12
        nonce = bytes((i * 16 + j) % 256 for j in range(nonce_len))
        key_id = 3 if alg == "xchacha20poly1305" else 4
        value, _ = seal_v2_plaintext(alg, key, key_id, "session", "malformed/v2", nonce, plaintext)
        print()
        print(f"comment = {comment}")
        print(f"algorithm = {alg}")
        print(f"key_id = {key_id}")
        print(f"key = {b64(key)}")
        print("name = session")
        print("purpose = malformed/v2")
        print(f"nonce = {nonce.hex()}")
        print(f"plaintext = {plaintext.hex()}")
        print(f"value = {value}")
        print(f"error = {error}")


# --- Sessions over several cookies -------------------------------------------

def chunk_name(name, i):
    return name if i == 0 else f"{name}.{i}"


def split(value, pieces):
    """The cookies of `value` cut into pieces of the given lengths."""
    if len(pieces) == 1:
        return [value]
    out, at = [], 0
    for i, n in enumerate(pieces):
        piece = value[at:at + n]
        at += n
        out.append(f"{len(pieces)}.{piece}" if i == 0 else piece)
    return out


# Matched with fullmatch: `$` alone would also accept a trailing newline
# (which no Cookie header carries, but the rule says digits only).
COUNT = re.compile(r"[1-9][0-9]?")


class TooLong:
    """A way refused before it is put together: longer than the maximum."""

    def __init__(self, length):
        self.length = length


def reassemble(cookie_header, name, max_chunks, max_same_name=8, max_len=None):
    """The candidate values a Cookie header's chunks put together, by the
    rule in SECURITY.md; None if there are too many ways (none used). A way
    is a value, None (refused: a bad count or a missing chunk) or a TooLong
    (longer than max_len bytes, when given)."""
    by_index = {i: [] for i in range(max_chunks)}
    for pair in cookie_header.split(";"):
        if "=" not in pair:
            continue
        n, v = pair.split("=", 1)
        n, v = n.strip(" \t"), v.strip(" \t")
        if n == name:
            by_index[0].append(v)
        elif n.startswith(name + ".") and COUNT.fullmatch(n[len(name) + 1:]):
            i = int(n[len(name) + 1:])
            if 1 <= i < max_chunks:
                by_index[i].append(v)
    if any(len(v) > max_same_name for v in by_index.values()):
        return None
    ways = []
    for first in by_index[0]:
        if "." not in first:
            ways.append(first)
            continue
        count, piece = first.split(".", 1)
        if not COUNT.fullmatch(count) or not 2 <= int(count) <= max_chunks:
            ways.append(None)  # refused
            continue
        count = int(count)
        rest = [by_index[i] for i in range(1, count)]
        if any(not r for r in rest):
            ways.append(None)
            continue
        combos = [piece]
        for r in rest:
            combos = [c + p for c in combos for p in r]
        if len(ways) + len(combos) > max_same_name:
            return None
        ways.extend(c if max_len is None or len(c.encode()) <= max_len
                    else TooLong(len(c.encode())) for c in combos)
    return ways if len(ways) <= max_same_name else None


def session_of(ways, keys, name, purpose):
    """The payload of the one way that opens, or None (the tossing rule)."""
    opened = []
    for way in ways:
        if not isinstance(way, str):
            continue
        try:
            opened.append(open_any(keys, name, purpose, way))
        except Exception:
            continue
    return opened[0][2] if len(opened) == 1 else None


CHUNK_KEY = derived_key("chunks")


def postcard_text(payload):
    length, at = read_leb128(payload, 0, 10)
    assert length == len(payload) - at
    return payload[at:].decode()


def postcard_string(s):
    b = s.encode()
    return leb128(len(b)) + b


def chunk_vectors():
    alg, key_id, purpose = "xchacha20poly1305", 9, "chunks/v1"
    keys = {key_id: (alg, CHUNK_KEY)}
    issued, expires = 1_800_000_000, 1_800_003_600
    out = []

    def sealed(name, text, seed, version=1):
        payload = postcard_string(text)
        nonce = bytes((seed * 7 + j) % 256 for j in range(24))
        if version == 1:
            value, _, _ = reference_v1.seal(alg, CHUNK_KEY, key_id, name, purpose, nonce,
                                            issued, expires, payload)
        else:
            plaintext = v2_plaintext(issued, expires, payload, 100)
            value, _ = seal_v2_plaintext(alg, CHUNK_KEY, key_id, name, purpose, nonce, plaintext)
        return value

    def add(comment, name, max_chunks, cookies, value):
        header = "; ".join(f"{n}={v}" for n, v in cookies)
        ways = reassemble(header, name, max_chunks, max_len=MAX_LEN)
        payload = session_of(ways or [], keys, name, purpose)
        session = "-" if payload is None else postcard_text(payload)
        out.append(dict(comment=comment, name=name, max_chunks=max_chunks, cookie=header,
                        value=value or "-", session=session, ways=ways_field(ways),
                        too_long=too_long_field(ways)))

    a = sealed("session", "a" * 120, 1)
    b = sealed("session", "b" * 120, 2)
    ca = split(a, [60, 60, len(a) - 120])
    cb = split(b, [60, 60, len(b) - 120])
    add("one cookie: the sealed value itself", "session", 4,
        [("session", sealed("session", "ada", 3))], sealed("session", "ada", 3))
    add("three chunks in order", "session", 4,
        [("session", ca[0]), ("session.1", ca[1]), ("session.2", ca[2])], a)
    add("three chunks, the header in another order", "session", 4,
        [("session.2", ca[2]), ("session", ca[0]), ("session.1", ca[1])], a)
    add("a stale chunk past the count is not part of the session", "session", 4,
        [("session", ca[0]), ("session.1", ca[1]), ("session.2", ca[2]), ("session.3", "AAAA")], a)
    add("a chunk missing: no session", "session", 4,
        [("session", ca[0]), ("session.2", ca[2])], None)
    add("chunk 1 of another write: no session", "session", 4,
        [("session", ca[0]), ("session.1", cb[1]), ("session.2", ca[2])], None)
    add("a second chunk 1 that does not belong: the way that opens is the session", "session", 4,
        [("session", ca[0]), ("session.1", cb[1]), ("session.1", ca[1]), ("session.2", ca[2])], a)
    add("the count raised to take in a planted chunk: no session", "session", 4,
        [("session", "4." + ca[0][2:]), ("session.1", ca[1]), ("session.2", ca[2]),
         ("session.3", "AAAA")], None)
    add("more chunks than the reader's maximum: no session", "session", 2,
        [("session", ca[0]), ("session.1", ca[1]), ("session.2", ca[2])], None)
    add("a count of 1 is never written: no session", "session", 4,
        [("session", "1." + a)], None)
    h = sealed("__Host-session", "h" * 150, 4)
    ch = split(h, [100, len(h) - 100])
    add("__Host- name: every chunk keeps the prefix", "__Host-session", 4,
        [("__Host-session", ch[0]), ("__Host-session.1", ch[1])], h)
    add("__Host- chunk names without the prefix are other cookies: no session", "__Host-session", 4,
        [("__Host-session", ch[0]), ("session.1", ch[1])], None)
    p = sealed("session", "padded", 5, version=2)
    cp = split(p, [50, len(p) - 50])
    add("a padded (v2) value over two chunks", "session", 4,
        [("session", cp[0]), ("session.1", cp[1])], p)
    c2 = split(a, [100, len(a) - 100])
    add("a count with a leading zero (02.) is not canonical: no session", "session", 4,
        [("session", "0" + c2[0]), ("session.1", c2[1])], None)
    add("a chunk name with a leading zero (NAME.01) is another cookie: no session", "session", 4,
        [("session", c2[0]), ("session.01", c2[1])], None)
    add("nine ways (two planted values for each of two chunks): none used, no session",
        "session", 4,
        [("session", ca[0]), ("session.1", ca[1]), ("session.1", "AAAA"), ("session.1", "BBBB"),
         ("session.2", ca[2]), ("session.2", "CCCC"), ("session.2", "DDDD")], None)
    add("eight ways, one of them the session: the session", "session", 4,
        [("session", ca[0]), ("session.1", ca[1]), ("session.1", "AAAA"),
         ("session.2", ca[2]), ("session.2", "CCCC"), ("session.2", "DDDD"),
         ("session.2", "EEEE")], a)
    add("a way longer than the maximum: refused before it is put together", "session", 4,
        [("session", "2." + "A" * 4000), ("session.1", "A" * 4000)], None)
    return out


# The reader's maximum value length in the chunk vectors: the default
# chunking budget, which a reader with chunking takes as its max_len.
MAX_LEN = 7168


def ways_field(ways):
    return "none" if ways is None else str(len(ways))


def too_long_field(ways):
    return str(sum(isinstance(w, TooLong) for w in ways or []))


def print_chunks():
    print("# sealed-session: sessions over several cookies (see SECURITY.md). Each")
    print("# vector is a Cookie header sent to a server whose session cookie is")
    print("# `name`, with chunking up to `max_chunks` cookies; `value` is the sealed")
    print("# value the chunks put together (`-` for none), `session` the String")
    print("# (postcard) the session holds (`-` for no session), `ways` how many ways")
    print("# the chunks put a value together (`none`: too many, none used), `too_long`")
    print("# how many of them are refused as longer than `max_len`. Key: `keyring`.")
    print("# Written by tests/vectors/reference_v2.py --chunks.")
    for v in chunk_vectors():
        print()
        print(f"comment = {v['comment']}")
        print(f"keyring = 9:xchacha20poly1305:{b64(CHUNK_KEY)}")
        print("purpose = chunks/v1")
        print("issued_at = 1800000000")
        print("expires_at = 1800003600")
        print(f"max_len = {MAX_LEN}")
        for field in ("name", "max_chunks", "cookie", "value", "session", "ways", "too_long"):
            print(f"{field} = {v[field]}")


def check():
    here = os.path.dirname(os.path.abspath(__file__))
    for v in parse(os.path.join(here, "v2.txt")):
        keys = {int(v["key_id"]): (v["algorithm"], unb64(v["key"]))}
        if "error" in v:
            try:
                open_any(keys, v["name"], v["purpose"], v["value"])
            except Malformed:
                assert v["error"] == "Malformed", v["comment"]
                continue
            assert v["error"] != "Malformed", v["comment"]
            continue
        issued, expires, payload = open_any(keys, v["name"], v["purpose"], v["value"])
        assert (issued, expires, payload.hex()) == (int(v["issued_at"]), int(v["expires_at"]), v["payload"])
    for v in parse(os.path.join(here, "chunks.txt")):
        kid, alg, key = v["keyring"].split(":")
        keys = {int(kid): (alg, unb64(key))}
        found = reassemble(v["cookie"], v["name"], int(v["max_chunks"]),
                           max_len=int(v["max_len"]))
        assert (ways_field(found), too_long_field(found)) == (v["ways"], v["too_long"]), v["comment"]
        ways = found or []
        payload = session_of(ways, keys, v["name"], v["purpose"])
        session = "-" if payload is None else postcard_text(payload)
        assert session == v["session"], v["comment"]
        if v["value"] != "-":
            assert v["value"] in ways, v["comment"]
    # And the v1 files still open here.
    for v in parse(os.path.join(here, "v1.txt")):
        keys = {int(v["key_id"]): (v["algorithm"], unb64(v["key"]))}
        assert open_any(keys, v["name"], v["purpose"], v["value"])[2].hex() == v["payload"]
    print("all v2 and chunk vectors agree")


if __name__ == "__main__":
    if "--check" in sys.argv:
        check()
    elif "--chunks" in sys.argv:
        print_chunks()
    else:
        print_v2()
