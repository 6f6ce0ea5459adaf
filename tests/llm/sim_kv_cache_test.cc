// SimKvCache (the prototype that simulates quantization schemes for kasten bench kv --sim): spec parsing, the
// analytic bytes, exact cells kept exact, and errors that shrink with the bits.
#include "llm/sim_kv_cache.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

constexpr KvCacheShape kShape{2, 2, 8, 64};

// Stores `n` cells of Gaussian keys and values with per-channel offsets (outlier channels), one commit per cell.
std::vector<float> fill(SimKvCache& cache, int n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    const std::size_t row = static_cast<std::size_t>(kShape.n_head_kv) * kShape.head_dim;
    std::vector<float> all;
    for (int c = 0; c < n; ++c) {
        for (int l = 0; l < kShape.n_layer; ++l) {
            std::vector<float> k(row), v(row);
            for (std::size_t i = 0; i < row; ++i) {
                k[i] = d(rng) + (i % 8 == 3 ? 6.0f : 0.0f);
                v[i] = d(rng);
            }
            cache.store(l, c, k.data(), v.data());
            all.insert(all.end(), k.begin(), k.end());
            all.insert(all.end(), v.begin(), v.end());
        }
        cache.commit(c + 1);
    }
    return all;
}

// The value the cache holds for cell `c` of layer 0, head 0: attention over that cell alone returns it.
std::vector<float> held_value(const SimKvCache& cache, int c) {
    const int hd = kShape.head_dim;
    std::vector<float> q(hd, 0.5f), out(hd), scratch(1);
    float mx = 0, sum = 0;
    cache.attend(0, 0, q.data(), 1, c, c + 1, 1.0f, out.data(), &mx, &sum, scratch.data());
    for (float& x : out) x /= sum;
    return out;
}

double value_error(const std::string& spec_text, int cell) {
    auto spec = parse_sim_spec(spec_text);
    EXPECT_TRUE(spec.is_ok());
    SimKvCache cache(kShape, spec.value(), spec_text);
    const std::vector<float> all = fill(cache, 64, 7);
    const std::size_t row = static_cast<std::size_t>(kShape.n_head_kv) * kShape.head_dim;
    const float* v = all.data() + static_cast<std::size_t>(cell) * kShape.n_layer * 2 * row + row;  // layer 0, head 0
    const std::vector<float> got = held_value(cache, cell);
    double e = 0;
    for (int d = 0; d < kShape.head_dim; ++d) e = std::max(e, std::abs(static_cast<double>(got[d]) - v[d]));
    return e;
}

TEST(SimKvCacheTest, ParsesSchemesAndRejectsUnknownOrMalformedItems) {
    auto s = parse_sim_spec("k=3,v=2,kchan=1,kg=128,vchan=1,prerope=1,win=32");
    ASSERT_TRUE(s.is_ok());
    EXPECT_EQ(s.value().kbits, 3);
    EXPECT_EQ(s.value().vbits, 2);
    EXPECT_TRUE(s.value().k_chan && s.value().v_chan && s.value().prerope);
    EXPECT_EQ(s.value().kgroup, 128);
    EXPECT_EQ(s.value().window, 32);
    EXPECT_FALSE(parse_sim_spec("bogus=1").is_ok());
    EXPECT_FALSE(parse_sim_spec("k=x").is_ok());
    EXPECT_FALSE(parse_sim_spec("k4").is_ok());
}

TEST(SimKvCacheTest, RejectsValuesOutsideTheSimulationsRanges) {
    // Each of these would loop forever (a per-channel group of 0 tokens), shift past an int, read past a level table
    // or a row, or divide by zero if it reached the cache.
    for (const char* spec :
         {"k=0",          "v=9",           "k=64",     "k=-1",     "k=5,nuq=1",   "sb=1",     "sb=17",
          "kchan=1,kg=0", "kchan=1,kg=-1", "kg=-2",    "kg=5000",  "vg=-3",       "vchan=1",  "prerope=1",
          "causal=-1",    "cnuq=1",        "margin=0", "sinks=-1", "win=2000000", "center=-5"}) {
        const auto parsed = parse_sim_spec(spec);
        EXPECT_FALSE(parsed.is_ok()) << spec;
        if (!parsed.is_ok()) EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << spec;
    }
    EXPECT_TRUE(parse_sim_spec("k=8,v=1,kchan=1,kg=1,win=0").is_ok());
}

TEST(SimKvCacheTest, ChecksTheSchemeAgainstTheModelsShape) {
    // kShape: head_dim 8, 2 KV heads (16 channels per layer).
    auto ok = [](const char* spec) { return check_sim_spec(parse_sim_spec(spec).value(), kShape).is_ok(); };
    EXPECT_TRUE(ok("k=4,v=4"));
    EXPECT_TRUE(ok("k=4,v=4,kg=-1,vg=4"));
    EXPECT_FALSE(ok("k=4,v=4,kg=3"));                 // 3 does not divide 16 channels
    EXPECT_FALSE(ok("k=4,v=4,vg=32"));                // wider than the layer
    EXPECT_TRUE(ok("k=4,v=4,kchan=1,kg=3,vchan=1"));  // per channel: kg counts tokens
    KvCacheShape odd = kShape;
    odd.head_dim = 6;
    EXPECT_FALSE(check_sim_spec(parse_sim_spec("k=4,v=4,rot=1").value(), odd).is_ok());
    EXPECT_TRUE(check_sim_spec(parse_sim_spec("k=4,v=4,rot=1").value(), kShape).is_ok());
}

TEST(SimKvCacheTest, BytesAreTheSchemesCodesParametersAndExactCells) {
    // Per layer and token: 16 channels × (4 + 2) bits, (scale, min) per channel per 32 tokens for keys and values
    // = 128 bits; exact cells: an 8-token window and a 32-token tail, f16 rows of 2 layers × 16 channels × 2.
    auto spec = parse_sim_spec("k=4,v=2,kchan=1,kg=32,vchan=1,win=8");
    ASSERT_TRUE(spec.is_ok());
    SimKvCache cache(kShape, spec.value(), "x");
    EXPECT_EQ(cache.bytes(), 16u * 2 * 64 + 40u * 128);
    // Per token, groups of one head: 16 × (4 + 4) bits and one f16 (scale, min) per 8 channels, K and V.
    auto tok = parse_sim_spec("k=4,v=4");
    ASSERT_TRUE(tok.is_ok());
    EXPECT_EQ(SimKvCache(kShape, tok.value(), "y").bytes(), (16u * 8 + 4 * 32) / 8 * 2 * 64);
}

TEST(SimKvCacheTest, WindowCellsStayExactAndErrorsShrinkWithTheBits) {
    // The newest cell is in the window: exact. An old one is quantized: close at 8 bits, worse at 2.
    EXPECT_LT(value_error("k=8,v=8,kchan=1,kg=32,vchan=1,win=8", 63), 1e-5);
    const double e8 = value_error("k=8,v=8,kchan=1,kg=32,vchan=1,win=8", 3);
    const double e2 = value_error("k=2,v=2,kchan=1,kg=32,vchan=1,win=8", 3);
    EXPECT_GT(e8, 0.0);
    EXPECT_LT(e8, 0.05);
    EXPECT_GT(e2, 4 * e8);
    const double t8 = value_error("k=8,v=8", 3);
    const double t2 = value_error("k=2,v=2", 3);
    EXPECT_LT(t8, 0.05);
    EXPECT_GT(t2, 4 * t8);
}

}  // namespace
}  // namespace kasten::llm

namespace kasten::llm {
namespace {

TEST(SimKvCacheTest, ParsesAndChecksVqSchemes) {
    auto s = parse_sim_spec("vq=1,prerope=1,kc=2,kb=6,vc=4,vb=8,kb2=4,cb=3,norm=1,out=10,sinks=1,win=8");
    ASSERT_TRUE(s.is_ok());
    EXPECT_TRUE(s.value().vq && s.value().prerope && s.value().vq_norm);
    EXPECT_EQ(s.value().vq_kc, 2);
    EXPECT_EQ(s.value().vq_vb, 8);
    EXPECT_EQ(s.value().vq_kb2, 4);
    EXPECT_EQ(s.value().vq_share, 3);
    for (const char* bad : {"vq=1,kb=15", "vq=1,kc=0", "vq=1,kc=9", "vq=1,cb=4", "vq=1,kchan=1,kg=32", "vq=1,out=501",
                            "vq=1,calib=0", "vq=1,cs=0"}) {
        EXPECT_FALSE(parse_sim_spec(bad).is_ok()) << bad;
    }
    EXPECT_TRUE(check_sim_spec(parse_sim_spec("vq=1,kc=8,vc=4").value(), kShape).is_ok());
    EXPECT_FALSE(check_sim_spec(parse_sim_spec("vq=1,kc=3").value(), kShape).is_ok());  // 3 does not divide 8
}

// With at least as many codes as distinct calibration groups, k-means keeps every group as a centroid, so coding a
// calibration row gives it back (to f16 rounding); keys go through the pre-RoPE round trip.
TEST(SimKvCacheTest, VqCodebooksReproduceTheirCalibration) {
    ModelConfig config;
    config.n_layer = 1;
    config.n_head = 1;
    config.n_head_kv = 1;
    config.head_dim = 8;
    config.n_rot = 8;
    config.n_embd = 8;
    const Rope rope(config);
    RecordingKvCache rec(KvCacheShape{1, 1, 8, 4});
    std::mt19937 rng(3);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<std::vector<float>> keys, values;
    for (int c = 0; c < 4; ++c) {
        std::vector<float> k(8), v(8);
        for (float& x : k) x = d(rng);
        for (float& x : v) x = d(rng);
        rec.store(0, c, k.data(), v.data());
        keys.push_back(k);
        values.push_back(v);
    }
    rec.commit(4);
    VqCalibration cal;
    rec.append_to(cal);
    ASSERT_EQ(cal.n, 4);
    SimKvSpec spec = parse_sim_spec("vq=1,prerope=1,kc=2,kb=4,vc=8,vb=2,cb=0").value();
    const auto books = build_vq_codebooks(cal, spec, rope);
    for (int c = 0; c < 4; ++c) {
        std::vector<float> k = keys[static_cast<std::size_t>(c)], v = values[static_cast<std::size_t>(c)];
        rope.apply(k.data(), 1, -c);
        std::vector<float> pre = k;
        vq_code(*books, 0, 0, 0, k.data());
        vq_code(*books, 1, 0, 0, v.data());
        for (int i = 0; i < 8; ++i) {
            EXPECT_NEAR(k[static_cast<std::size_t>(i)], pre[static_cast<std::size_t>(i)], 5e-3f);
            EXPECT_NEAR(v[static_cast<std::size_t>(i)],
                        values[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)], 5e-3f);
        }
    }
    // Codebooks: keys 16 codes of 2, values 4 codes of 8, f16 each.
    EXPECT_EQ(books->bytes, static_cast<std::size_t>((16 * 2 + 4 * 8) * 2));
}

}  // namespace
}  // namespace kasten::llm
