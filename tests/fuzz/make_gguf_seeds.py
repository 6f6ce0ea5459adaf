#!/usr/bin/env python3
"""Writes the seed corpus of the gguf fuzz target (tests/fuzz/corpus/gguf/): small GGUF files, valid and
edge-case, covering every metadata value type, tensors and the tokenizer keys of the three tokenizer models.
Run from anywhere; overwrites the seed_* files."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "gguf")

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?", U64: "<Q",
       I64: "<q", F64: "<d"}


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def value(t, v):
    if t == STR:
        return gstr(v)
    if t == ARR:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(value(et, x) for x in items)
    return struct.pack(FMT[t], v)


def gguf(kvs, tensors=(), version=3, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, dims, type, data bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += gstr(k) + struct.pack("<I", t) + value(t, v)
    offset = 0
    datas = b""
    for name, dims, ttype, data in tensors:
        out += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ttype, offset)
        pad = (-len(data)) % alignment
        datas += data + b"\0" * pad
        offset += len(data) + pad
    out += b"\0" * ((-len(out)) % alignment)
    return out + datas


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    write("seed_empty_v3", gguf([]))
    write("seed_empty_v2", gguf([], version=2))
    write("seed_v1", gguf([], version=1))
    write("seed_all_types", gguf([
        ("u8", U8, 7), ("i8", I8, -7), ("u16", U16, 65535), ("i16", I16, -300), ("u32", U32, 1 << 31),
        ("i32", I32, -5), ("f32", F32, 1.5), ("bool", BOOL, True), ("str", STR, "héllo"), ("u64", U64, 1 << 40),
        ("i64", I64, -(1 << 40)), ("f64", F64, -0.25), ("arr.i32", ARR, (I32, [1, -2, 3])),
        ("arr.str", ARR, (STR, ["a", "", "ccc"])), ("arr.nested", ARR, (ARR, [(U8, [1, 2]), (U8, [])])),
        ("arr.empty", ARR, (F32, [])),
    ]))
    f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.0)
    write("seed_tensors", gguf([("general.alignment", U32, 64), ("general.architecture", STR, "llama")],
                               [("a.weight", [2, 2], 0, f32), ("b", [4], 0, f32), ("c.f16", [4], 1, b"\0\x3c" * 4)],
                               alignment=64))
    write("seed_dup_key", gguf([("k", U8, 1), ("k", U8, 2)]))
    write("seed_llama_config", gguf([
        ("general.architecture", STR, "llama"), ("llama.block_count", U32, 2), ("llama.context_length", U32, 64),
        ("llama.embedding_length", U32, 8), ("llama.feed_forward_length", U32, 16),
        ("llama.attention.head_count", U32, 2), ("llama.attention.head_count_kv", U32, 1),
        ("llama.rope.freq_base", F32, 10000.0), ("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
        ("llama.vocab_size", U32, 9),
    ]))
    spm_tokens = ["<unk>", "<s>", "</s>", "<0x41>", "<0x0A>", "\u2581", "a", "b", "\u2581a", "ab", "\u2581ab"]
    write("seed_tok_llama", gguf([
        ("tokenizer.ggml.model", STR, "llama"), ("tokenizer.ggml.tokens", ARR, (STR, spm_tokens)),
        ("tokenizer.ggml.scores", ARR, (F32, [0.0, 0.0, 0.0, 0.0, 0.0, -1.0, -2.0, -2.0, -1.5, -1.0, -0.5])),
        ("tokenizer.ggml.token_type", ARR, (I32, [2, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1])),
        ("tokenizer.ggml.bos_token_id", U32, 1), ("tokenizer.ggml.eos_token_id", U32, 2),
        ("tokenizer.ggml.add_bos_token", BOOL, True),
        ("tokenizer.chat_template", STR, "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"),
    ]))
    bpe_tokens = ["H", "e", "l", "o", "\u0120", "w", "r", "d", "He", "ll", "Hell", "Hello", "\u0120w", "<|endoftext|>"]
    write("seed_tok_gpt2", gguf([
        ("tokenizer.ggml.model", STR, "gpt2"), ("tokenizer.ggml.pre", STR, "gpt2"),
        ("tokenizer.ggml.tokens", ARR, (STR, bpe_tokens)),
        ("tokenizer.ggml.token_type", ARR, (I32, [1] * 13 + [3])),
        ("tokenizer.ggml.merges", ARR, (STR, ["H e", "l l", "He ll", "Hell o", "\u0120 w"])),
        ("tokenizer.ggml.bos_token_id", U32, 13), ("tokenizer.ggml.eos_token_id", U32, 13),
    ]))
    write("seed_tok_bert", gguf([
        ("tokenizer.ggml.model", STR, "bert"),
        ("tokenizer.ggml.tokens", ARR, (STR, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "!"])),
        ("tokenizer.ggml.token_type", ARR, (I32, [3, 2, 3, 3, 3, 1, 1, 1, 1])),
        ("tokenizer.ggml.unknown_token_id", U32, 1), ("tokenizer.ggml.cls_token_id", U32, 2),
        ("tokenizer.ggml.seperator_token_id", U32, 3), ("tokenizer.ggml.padding_token_id", U32, 0),
    ]))
    write("seed_truncated", gguf([("general.name", STR, "x" * 40)])[:30])
    write("seed_huge_count", b"GGUF" + struct.pack("<IQQ", 3, 0, 1 << 60))
    write("seed_bad_tensor", gguf([], [("t", [1 << 40, 1 << 40], 0, f32)]))


if __name__ == "__main__":
    main()
