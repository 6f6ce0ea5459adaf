#!/usr/bin/env python3
"""Writes the seed corpus of the kv_snapshot fuzz target (tests/fuzz/corpus/kv_snapshot/): KV snapshots laid out as
llm/kv_snapshot.h describes, holding the save_state() bytes of the full-f32, f16, KIVI and mixed-precision caches
(llm/dense_kv_rows.h, llm/kivi_kv_cache.cc, llm/mixed_kv_cache.cc) for caches of the target's context (64 cells).
Most seeds have selector bit 0 set (the target appends the CRC-32C), so they decode and restore. Run from anywhere;
overwrites the seed_* files it writes."""
import math
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CAPACITY = 64  # kCapacity of tests/fuzz/kv_snapshot_fuzz.cc
KEY_GROUP = 32  # kKvKeyGroup
rng = random.Random(7)


def f16s(n):
    return struct.pack(f"<{n}e", *[rng.uniform(-2.0, 2.0) for _ in range(n)])


def snapshot(cache, shape, tokens, state, model="seed-model", version=1):
    """The snapshot without its CRC-32C (the target appends it for selector bit 0)."""
    out = b"KVSN" + struct.pack("<I", version)
    for s in (model, cache):
        out += struct.pack("<I", len(s)) + s.encode()
    out += struct.pack("<4i", *shape, len(tokens)) + struct.pack(f"<{len(tokens)}i", *tokens)
    return out + struct.pack("<Q", len(state)) + state


def dense_state(shape, n, elem):
    """FullKvCache (elem 4, f32) or F16KvCache (elem 2): keys then values, per layer and head, n rows each."""
    n_layer, n_head_kv, hd = shape
    rows = 2 * n_layer * n_head_kv * n * hd
    if elem == 4:
        return struct.pack(f"<{rows}f", *[rng.uniform(-2.0, 2.0) for _ in range(rows)])
    return f16s(rows)


def kivi_state(shape, n, q_end, bits):
    """KiviKvCache::save_state: quantized cell count, key codes and (scale, min) per head and group, value codes and
    (scale, min) per value block, then the f16 window of the cells from q_end on."""
    n_layer, n_head_kv, hd = shape
    kv_dim = n_head_kv * hd
    if hd % 32 == 0 or (32 % hd == 0 and kv_dim % 32 == 0):
        value_group = 32
    else:
        value_group = hd
    value_block = max(hd, value_group)
    heads, blocks, groups = n_layer * n_head_kv, n_layer * (kv_dim // value_block), q_end // KEY_GROUP
    out = struct.pack("<i", q_end)
    for _ in range(heads):
        out += rng.randbytes(groups * hd * KEY_GROUP * bits // 8) + f16s(groups * hd * 2)
    for _ in range(blocks):
        out += rng.randbytes(q_end * value_block * bits // 8) + f16s(q_end * 2 * (value_block // value_group))
    for _ in range(heads):
        out += f16s((n - q_end) * hd) + f16s((n - q_end) * hd)
    return out


def mixed_state(shape, n, q_end, low_bits=2, high_bits=8, fraction=0.1, sinks=4):
    """MixedKvCache::save_state: the KIVI state behind its u64 length, then per head the side store's slots
    (position, score, count, key and value codes, f16 pairs) and the window's scores and counts."""
    n_layer, n_head_kv, hd = shape
    low = kivi_state(shape, n, q_end, low_bits)
    slots = min(CAPACITY, sinks + math.ceil(fraction * CAPACITY))
    row = hd * high_bits // 8
    out = struct.pack("<Q", len(low)) + low
    for _ in range(n_layer * n_head_kv):
        held = sorted(rng.sample(range(q_end), min(slots, q_end)))
        pos = held + [-1] * (slots - len(held))
        out += struct.pack(f"<{slots}i", *pos)
        out += struct.pack(f"<{slots}f", *[rng.uniform(0.0, 1.0) if p >= 0 else 0.0 for p in pos])
        out += struct.pack(f"<{slots}i", *[rng.randrange(1, 40) if p >= 0 else 0 for p in pos])
        out += rng.randbytes(2 * slots * row) + f16s(4 * slots)
        out += struct.pack(f"<{n - q_end}f", *[rng.uniform(0.0, 1.0) for _ in range(n - q_end)])
        out += struct.pack(f"<{n - q_end}i", *[rng.randrange(1, 40) for _ in range(n - q_end)])
    return out


def write(name, selector, body):
    d = os.path.join(HERE, "corpus", "kv_snapshot")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([selector]) + body)


def tokens(n):
    return [(i * 37 + 11) % 500 for i in range(n)]


SHAPE = (1, 2, 8)
WIDE = (2, 1, 32)  # a value group spanning the whole head
write("seed_full_5", 1, snapshot("full-f32", SHAPE, tokens(5), dense_state(SHAPE, 5, 4)))
write("seed_full_empty", 1, snapshot("full-f32", SHAPE, [], b""))
write("seed_f16_3", 1, snapshot("f16", WIDE, tokens(3), dense_state(WIDE, 3, 2)))
write("seed_kivi_q4_r32_window", 1, snapshot("kivi-q4-r32", SHAPE, tokens(40), kivi_state(SHAPE, 40, 32, 4)))
write("seed_kivi_q2_r0_unquantized", 1, snapshot("kivi-q2-r0", SHAPE, tokens(10), kivi_state(SHAPE, 10, 0, 2)))
write("seed_kivi_q8_r0_full", 1, snapshot("kivi-q8-r0", SHAPE, tokens(64), kivi_state(SHAPE, 64, 64, 8)))
write("seed_kivi_q2_r32_wide", 1, snapshot("kivi-q2-r32", WIDE, tokens(33), kivi_state(WIDE, 33, 32, 2)))
write("seed_mixed_r32", 1,
      snapshot("mixed-q8q2-f0.10-r32-s4", SHAPE, tokens(40), mixed_state(SHAPE, 40, 32)))
write("seed_mixed_r0_two_groups", 1,
      snapshot("mixed-q8q2-f0.10-r0-s4", SHAPE, tokens(64), mixed_state(SHAPE, 64, 64)))
# Selector bit 1: restored under another model id (refused).
write("seed_other_model", 3, snapshot("f16", SHAPE, tokens(4), dense_state(SHAPE, 4, 2)))
# Refused: too many tokens for the context; another format version; no checksum appended (rejected).
write("seed_too_long", 1, snapshot("full-f32", (1, 1, 4), tokens(70), dense_state((1, 1, 4), 70, 4)))
write("seed_version_2", 1, snapshot("full-f32", SHAPE, tokens(1), dense_state(SHAPE, 1, 4), version=2))
write("seed_no_checksum", 0, snapshot("full-f32", SHAPE, tokens(2), dense_state(SHAPE, 2, 4)))
