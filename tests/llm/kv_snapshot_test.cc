// KvSnapshot: every cache that can be saved round-trips bit for bit (its state, and its attention before and after
// more tokens), a snapshot that does not fit is refused with a clear error, and damage is detected.
#include "llm/kv_snapshot.h"

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "llm/crc32c.h"
#include "llm/evicting_kv_cache.h"
#include "llm/f16_kv_cache.h"
#include "llm/full_kv_cache.h"
#include "llm/kivi_kv_cache.h"
#include "llm/mixed_kv_cache.h"

namespace kasten::llm {
namespace {

using CacheMaker = std::function<std::unique_ptr<KvCache>(const KvCacheShape&)>;

struct Policy {
    std::string name;
    CacheMaker make;
};

std::vector<Policy> saved_policies() {
    std::vector<Policy> out;
    out.push_back({"full", [](const KvCacheShape& s) { return std::make_unique<FullKvCache>(s); }});
    out.push_back({"f16", [](const KvCacheShape& s) { return std::make_unique<F16KvCache>(s); }});
    for (int bits : {8, 4, 2}) {
        for (int residual : {0, 32}) {
            out.push_back({"kivi" + std::to_string(bits) + "_r" + std::to_string(residual),
                           [=](const KvCacheShape& s) { return std::make_unique<KiviKvCache>(s, bits, residual); }});
        }
    }
    for (int residual : {0, 32}) {  // mixed precision: KIVI state, side store and scores
        out.push_back({"mixed_r" + std::to_string(residual), [=](const KvCacheShape& s) {
                           MixedKvOptions o;
                           o.residual = residual;
                           return std::make_unique<MixedKvCache>(s, o);
                       }});
    }
    return out;
}

constexpr KvCacheShape kShape{/*n_layer=*/2, /*n_head_kv=*/2, /*head_dim=*/16, /*capacity=*/256};

// Stores `count` random tokens at the end of `cache` in batches of up to 24, committing each.
void fill(KvCache& cache, int count, std::mt19937& rng) {
    std::normal_distribution<float> d(0.0f, 1.0f);
    const KvCacheShape& shape = cache.shape();  // the cache's own (tests use other head counts too)
    const std::size_t row = static_cast<std::size_t>(shape.n_head_kv) * shape.head_dim;
    std::vector<float> k(row), v(row);
    int done = 0;
    while (done < count) {
        const int batch = std::min(24, count - done);
        const int p0 = cache.size();
        for (int l = 0; l < shape.n_layer; ++l) {
            for (int t = 0; t < batch; ++t) {
                for (std::size_t i = 0; i < row; ++i) {
                    k[i] = d(rng) + static_cast<float>(static_cast<int>(i % 5) - 2);
                    v[i] = d(rng);
                }
                cache.store(l, p0 + t, k.data(), v.data());
            }
        }
        cache.commit(p0 + batch);
        done += batch;
    }
}

// Attention of one fixed query per (layer, KV head) over every cell: out, max and sum concatenated.
std::vector<float> attention(const KvCache& cache) {
    const int hd = kShape.head_dim;
    std::vector<float> q(static_cast<std::size_t>(hd));
    for (int d = 0; d < hd; ++d) q[d] = 0.1f * static_cast<float>(d % 7) - 0.3f;
    std::vector<float> all, out(static_cast<std::size_t>(hd)), scratch(static_cast<std::size_t>(cache.size()));
    for (int l = 0; l < kShape.n_layer; ++l) {
        for (int h = 0; h < kShape.n_head_kv; ++h) {
            float max = 0, sum = 0;
            cache.attend(l, h, q.data(), 1, 0, cache.size(), 0.25f, out.data(), &max, &sum, scratch.data());
            all.insert(all.end(), out.begin(), out.end());
            all.push_back(max);
            all.push_back(sum);
        }
    }
    return all;
}

std::vector<int> token_ids(int n) {
    std::vector<int> ids(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) ids[i] = (i * 37 + 11) % 500;
    return ids;
}

TEST(KvSnapshotTest, EverySavedPolicyRoundTripsExactly) {
    for (const Policy& policy : saved_policies()) {
        // 0 tokens, a partial key group, and enough for several quantized groups plus a window.
        for (int n : {0, 20, 150}) {
            SCOPED_TRACE(policy.name + " n=" + std::to_string(n));
            std::mt19937 rng(7);
            auto original = policy.make(kShape);
            fill(*original, n, rng);
            Result<std::string> bytes = encode_kv_snapshot(*original, "model-a", token_ids(n));
            ASSERT_TRUE(bytes.is_ok()) << bytes.status().to_string();
            Result<KvSnapshot> decoded = decode_kv_snapshot(bytes.value());
            ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
            EXPECT_EQ(decoded->model_id, "model-a");
            EXPECT_EQ(decoded->cache, original->name());
            EXPECT_EQ(decoded->tokens, token_ids(n));

            auto restored = policy.make(kShape);
            fill(*restored, 5, rng);  // whatever it held before is replaced
            ASSERT_TRUE(restore_kv_snapshot(decoded.value(), "model-a", *restored).is_ok());
            ASSERT_EQ(restored->size(), n);
            Result<std::string> again = encode_kv_snapshot(*restored, "model-a", token_ids(n));
            ASSERT_TRUE(again.is_ok());
            EXPECT_EQ(again.value(), bytes.value());
            if (n > 0) {
                EXPECT_EQ(attention(*restored), attention(*original));
            }

            // Both continue identically (KIVI quantizes its window the same way from then on).
            std::mt19937 rng_a(99), rng_b(99);
            fill(*original, 70, rng_a);
            fill(*restored, 70, rng_b);
            EXPECT_EQ(attention(*restored), attention(*original));
        }
    }
}

TEST(KvSnapshotTest, EvictingCachesAreNotSaved) {
    EvictingKvCache cache(kShape, EvictionOptions{EvictionPolicy::kH2o, 64, 4, 8, 3});
    std::mt19937 rng(1);
    fill(cache, 10, rng);
    Result<std::string> bytes = encode_kv_snapshot(cache, "m", token_ids(10));
    ASSERT_FALSE(bytes.is_ok());
    EXPECT_EQ(bytes.status().code(), StatusCode::kNotSupported);
}

TEST(KvSnapshotTest, TokenCountMustMatchTheCache) {
    FullKvCache cache(kShape);
    std::mt19937 rng(1);
    fill(cache, 10, rng);
    Result<std::string> bytes = encode_kv_snapshot(cache, "m", token_ids(9));
    ASSERT_FALSE(bytes.is_ok());
    EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
}

TEST(KvSnapshotTest, ASnapshotThatDoesNotFitIsRefusedAndLeavesTheCache) {
    std::mt19937 rng(3);
    F16KvCache source(kShape);
    fill(source, 40, rng);
    const std::string bytes = encode_kv_snapshot(source, "model-a", token_ids(40)).value();
    const KvSnapshot snapshot = decode_kv_snapshot(bytes).value();

    auto expect_refused = [&](KvCache& target, std::string_view model_id, const std::string& names) {
        fill(target, 3, rng);
        const int before = target.size();
        Status s = restore_kv_snapshot(snapshot, model_id, target);
        EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.to_string();
        EXPECT_NE(s.message().find(names), std::string::npos) << s.message();
        EXPECT_EQ(target.size(), before);
    };
    F16KvCache same(kShape);
    expect_refused(same, "model-b", "model-b");
    FullKvCache other_policy(kShape);
    expect_refused(other_policy, "model-a", "full-f32");
    KiviKvCache other_kivi(kShape, 4, 32);
    expect_refused(other_kivi, "model-a", "kivi-q4-r32");
    KvCacheShape wider = kShape;
    wider.n_head_kv = 4;
    F16KvCache other_shape(wider);
    expect_refused(other_shape, "model-a", "4 KV heads");
    KvCacheShape short_ctx = kShape;
    short_ctx.capacity = 32;
    F16KvCache too_small(short_ctx);
    expect_refused(too_small, "model-a", "context of 32");
}

TEST(KvSnapshotTest, DamageAndTruncationAreDetected) {
    std::mt19937 rng(5);
    KiviKvCache cache(kShape, 4, 32);
    fill(cache, 100, rng);
    const std::string bytes = encode_kv_snapshot(cache, "model-a", token_ids(100)).value();
    ASSERT_TRUE(decode_kv_snapshot(bytes).is_ok());
    // Every truncation.
    for (std::size_t len = 0; len < bytes.size(); len += 1 + len / 16) {
        Result<KvSnapshot> r = decode_kv_snapshot(std::string_view(bytes).substr(0, len));
        ASSERT_FALSE(r.is_ok()) << len;
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << len;
    }
    // A flipped bit anywhere (header, tokens, state, checksum).
    for (std::size_t at = 4; at < bytes.size(); at += 1 + at / 8) {
        std::string damaged = bytes;
        damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
        Result<KvSnapshot> r = decode_kv_snapshot(damaged);
        ASSERT_FALSE(r.is_ok()) << at;
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << at;
    }
    std::string longer = bytes + "x";
    EXPECT_EQ(decode_kv_snapshot(longer).status().code(), StatusCode::kCorruption);
}

TEST(KvSnapshotTest, AnotherFormatVersionIsNotRead) {
    FullKvCache cache(kShape);
    std::string bytes = encode_kv_snapshot(cache, "m", {}).value();
    bytes[4] = 2;  // version, then a valid checksum over the changed bytes
    std::string body = bytes.substr(0, bytes.size() - 4);
    const std::uint32_t crc = crc32c(body.data(), body.size());
    for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
    EXPECT_EQ(decode_kv_snapshot(body).status().code(), StatusCode::kNotSupported);
}

TEST(KvSnapshotTest, LoadStateRejectsBytesOfAnotherLength) {
    std::mt19937 rng(2);
    for (const Policy& policy : saved_policies()) {
        SCOPED_TRACE(policy.name);
        auto cache = policy.make(kShape);
        fill(*cache, 60, rng);
        std::string state;
        ASSERT_TRUE(cache->save_state(state).is_ok());
        auto target = policy.make(kShape);
        EXPECT_EQ(target->load_state(state, 59).code(), StatusCode::kInvalidArgument);
        EXPECT_EQ(target->load_state(std::string_view(state).substr(0, state.size() - 1), 60).code(),
                  StatusCode::kInvalidArgument);
        EXPECT_EQ(target->load_state(state, kShape.capacity + 1).code(), StatusCode::kInvalidArgument);
        EXPECT_EQ(target->size(), 0);
        EXPECT_TRUE(target->load_state(state, 60).is_ok());
        EXPECT_EQ(target->size(), 60);
    }
}

}  // namespace
}  // namespace kasten::llm
