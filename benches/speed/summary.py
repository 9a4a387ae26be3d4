#!/usr/bin/env python3
"""Prints the table of medians and ratios from the last run of benches/peers.rs
(the criterion bench of this crate, benches/speed).

Usage, in benches/speed: cargo bench --bench peers && python3 summary.py [criterion-dir]
The criterion directory defaults to $CARGO_TARGET_DIR/criterion, else this
crate's target/criterion (wherever the script is run from).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "target")), "criterion")

medians = {}
for dirpath, _dirs, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        bench = json.load(f)
    with open(os.path.join(dirpath, "estimates.json")) as f:
        estimates = json.load(f)
    medians[bench["full_id"]] = estimates["median"]["point_estimate"]

PEERS = [
    "sealed-session-xchacha",
    "sealed-session-aesgcm",
    "cookie-private-json",
    "fernet-json",
    "branca-json",
    "paseto-v4-local-json",
]
SIZES = ["small", "large"]
BASE = "cookie-private-json"


def us(ns):
    return "n/a" if ns is None else f"{ns / 1000:.2f} µs"


def get(size, name, op):
    return medians.get(f"{size}/{name}/{op}")


print("| scheme | " + " | ".join(
    f"{size} {op}" for size in SIZES for op in ("seal", "open")) + " |")
print("|---|" + "---|" * 4)
for name in PEERS:
    cells = []
    for size in SIZES:
        for op in ("seal", "open"):
            t, base = get(size, name, op), get(size, BASE, op)
            if t is None:
                cells.append("n/a")
            elif name == BASE or base is None:
                cells.append(us(t))
            else:
                cells.append(f"{us(t)} ({base / t:.1f}x)")
    print(f"| {name} | " + " | ".join(cells) + " |")

print()
print("Floor: the parts alone (postcard, the AEAD with a fixed nonce, base64);")
print("the AEAD is ring's where the run has it (the default `ring` feature).")
print()
print("| algorithm | " + " | ".join(
    f"{size} {op}: ours / floor" for size in SIZES for op in ("seal", "open")) + " |")
print("|---|" + "---|" * 4)
for alg, ours in [("xchacha20poly1305", "sealed-session-xchacha"),
                  ("aes256gcm", "sealed-session-aesgcm")]:
    cells = []
    for size in SIZES:
        parts = {
            "seal": [("postcard", "ser"), (alg, "encrypt"), ("base64", "encode")],
            "open": [("base64", "decode"), (alg, "decrypt"), ("postcard", "de")],
        }
        for op in ("seal", "open"):
            # The AEAD the crate uses: ring's when it was built with it.
            times = [medians.get(f"{size}/floor/{a}-ring/{b}",
                                 medians.get(f"{size}/floor/{a}/{b}"))
                     for a, b in parts[op]]
            t = get(size, ours, op)
            if t is None or None in times:
                cells.append("n/a")
                continue
            floor = sum(times)
            cells.append(f"{us(t)} / {us(floor)} = {t / floor:.2f}x")
    print(f"| {alg} | " + " | ".join(cells) + " |")
