#!/usr/bin/env python3
"""Writes the seed corpora of the kvec and use_lite fuzz targets (tests/fuzz/corpus/kvec/, corpus/use_lite/): tiny
KVEC word-vector files and KUSE headers with vocabularies, laid out as llm/kvec_format.h and llm/use_lite_format.h
describe, each behind the selector byte its target reads first (tests/fuzz/kvec_fuzz.cc, use_lite_fuzz.cc). The KVEC
writer here gives the bytes convert_glove_json() writes for the same words and vectors. Run from anywhere; overwrites
the seed_* and regress_* files it writes."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def align(n, a):
    return (n + a - 1) // a * a


def write(target, name, selector, body):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([selector]) + body)


# --- KVEC -------------------------------------------------------------------------------------------------------

def kvec(words, vectors, trailer=True):
    """A KVEC file (version 1, float32) of the given words (rank order) and vectors; without the trailer when
    trailer is False (the kvec target's selector bit 0 appends it and sets the file size)."""
    dim = len(vectors[0])
    blob = b"".join(w.encode() for w in words)
    offsets = [0]
    for w in words:
        offsets.append(offsets[-1] + len(w.encode()))
    offsets_offset = 64
    strings_offset = offsets_offset + 4 * (len(words) + 1)
    vectors_offset = align(strings_offset + len(blob), 64)
    size = vectors_offset + 4 * dim * len(words) + 8
    header = b"KVEC" + struct.pack("<IIIII", 1, 64, 1, dim, len(words))
    header += struct.pack("<QQQQQ", size, offsets_offset, strings_offset, vectors_offset, 0)
    body = header + struct.pack(f"<{len(offsets)}I", *offsets) + blob
    body += b"\0" * (vectors_offset - len(body))
    for v in vectors:
        body += struct.pack(f"<{dim}f", *v)
    if not trailer:
        return body
    return body + struct.pack("<I", crc32c(body)) + b"KEND"


WORDS = ["the", "of", "and", "caf\u00e9", "memory", "kasten", "\u00e9t\u00e9", "2024"]
VECTORS = [[((i * 7 + d * 3) % 11 - 5) / 4.0 for d in range(8)] for i in range(len(WORDS))]

write("kvec", "seed_words_8d", 0, kvec(WORDS, VECTORS))
write("kvec", "seed_words_8d_trailer_fixed", 1, kvec(WORDS, VECTORS, trailer=False))
write("kvec", "seed_one_word_1d", 0, kvec(["a"], [[1.0]]))
write("kvec", "seed_zero_vector", 1, kvec(["x", "y"], [[0.0, 0.0, 0.0, 0.0], [0.5, -0.5, 0.5, -0.5]], trailer=False))
write("kvec", "seed_duplicate_word", 1, kvec(["same", "same"], [[1.0, 0.0], [0.0, 1.0]], trailer=False))
write("kvec", "seed_bad_crc", 0, kvec(WORDS[:3], VECTORS[:3])[:-8] + b"\0\0\0\0KEND")

# --- KUSE -------------------------------------------------------------------------------------------------------

E, M, F = 256, 512, 1536
TENSOR_SHAPES = (
    [(8002, E), (1, 128)]
    + [(1, E), (1, E), (E, 3 * E), (1, 3 * E), (E, M), (1, M), (E, M), (1, M), (1, M), (1, M), (M, F), (1, F),
       (F, M), (1, M)]
    + [(1, M), (1, M), (M, 3 * M), (1, 3 * M), (M, M), (1, M), (1, M), (1, M), (M, F), (1, F), (F, M), (1, M)]
    + [(M, M), (1, M)])
assert len(TENSOR_SHAPES) == 30
TENSORS_BYTES = sum(align(r * c * 4, 64) for r, c in TENSOR_SHAPES)


def kuse_head(pieces, tensors_offset=0, file_size=0, tensor_count=30):
    """The header and vocabulary of a KUSE file: pieces are (piece, score) pairs, ids 0..5 reserved."""
    blob = b"".join(p.encode() for p, _ in pieces)
    offsets = [0]
    for p, _ in pieces:
        offsets.append(offsets[-1] + len(p.encode()))
    header = b"KUSE" + struct.pack("<IIIII", 1, 64, len(pieces), tensor_count, 0)
    header += struct.pack("<QQQQQ", file_size, 64, tensors_offset, TENSORS_BYTES, 0)
    vocab = struct.pack(f"<{len(pieces)}d", *[s for _, s in pieces])
    vocab += struct.pack(f"<{len(offsets)}I", *offsets) + blob
    return header + vocab


SEP = "\u2581"
RESERVED = [("<pad>", 0.0), ("<s>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("<mask>", 0.0), ("<cls>", 0.0)]
PIECES = RESERVED + [(SEP, -2.0), (SEP + "hello", -5.5), (SEP + "world", -6.0), ("h", -8.0), ("e", -7.5),
                     ("l", -7.0), ("o", -7.2), ("w", -8.5), ("r", -8.1), ("d", -8.3), ("!", -9.0),
                     ("caf", -10.0), ("\u00e9", -9.5), (SEP + "12", -11.0), ("3", -9.9), ("", -20.0)]

# selector % 3 == 2: header and vocabulary; the target appends zero tensors and the trailer.
write("use_lite", "seed_vocab_expanded", 2, kuse_head(PIECES))
write("use_lite", "seed_one_piece_expanded", 2, kuse_head([("a", -1.0)]))
write("use_lite", "seed_reserved_only_expanded", 2, kuse_head(RESERVED))
# selector % 3 == 1: the target appends the trailer (a short file: rejected at the section offsets).
write("use_lite", "seed_vocab_trailer_fixed", 1, kuse_head(PIECES))
# selector % 3 == 0: as it is (no trailer: rejected).
write("use_lite", "seed_header_raw", 0, kuse_head(PIECES[:8]))
# A tensors offset that wraps around 2^64 so that offset + tensors size + trailer equals the file size: the loader
# accepted it and handed out tensors outside the file.
head = kuse_head(PIECES)
head += b"\0" * (align(len(head), 64) - len(head))
wrapped = (len(head) - TENSORS_BYTES) % (1 << 64)
head = head[:40] + struct.pack("<Q", wrapped) + head[48:]
write("use_lite", "regress_tensors_offset_wraps", 1, head)
