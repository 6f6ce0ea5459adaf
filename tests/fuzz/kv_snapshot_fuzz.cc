// KV snapshots (llm/kv_snapshot.h) as EmbeddedLanguageModel::load_prefix() reads them: decode_kv_snapshot(), then
// restore_kv_snapshot() into a cache of the snapshot's own policy and shape (when it names a saved policy and a
// small shape; otherwise into a full-precision cache, which refuses it), then attention over the restored cells and
// more tokens decoded on top. The first input byte selects:
//   bit 0 clear: the rest is the snapshot as it is; set: the CRC-32C of the rest is appended, so mutations reach
//                the checks behind the checksum;
//   bit 1 set:   restore under another model id (refused, and the cache keeps what it held).
// Properties: decoding fails with kCorruption or kNotSupported; a refused restore leaves the cache as it was; a
// failed load_state leaves it empty; a restored cache saves back to exactly the input bytes and keeps working.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llm/crc32c.h"
#include "llm/f16_kv_cache.h"
#include "llm/full_kv_cache.h"
#include "llm/kivi_kv_cache.h"
#include "llm/kv_snapshot.h"
#include "llm/mixed_kv_cache.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace kasten::llm;

// The context of every cache the target builds: two KIVI key groups.
constexpr int kCapacity = 64;

using CacheMaker = std::function<std::unique_ptr<KvCache>(const KvCacheShape&)>;
struct Policy {
    std::string name;  // KvCache::name()
    CacheMaker make;
};

// Every cache policy that can be saved, in the variants the fuzzer may name.
const std::vector<Policy>& saved_policies() {
    static const std::vector<Policy> policies = [] {
        std::vector<CacheMaker> makers;
        makers.push_back([](const KvCacheShape& s) { return std::make_unique<FullKvCache>(s); });
        makers.push_back([](const KvCacheShape& s) { return std::make_unique<F16KvCache>(s); });
        for (int bits : {8, 4, 2}) {
            for (int residual : {0, 32}) {
                makers.push_back(
                    [=](const KvCacheShape& s) { return std::make_unique<KiviKvCache>(s, bits, residual); });
            }
        }
        for (int residual : {0, 32}) {
            makers.push_back([=](const KvCacheShape& s) {
                MixedKvOptions o;
                o.residual = residual;
                return std::make_unique<MixedKvCache>(s, o);
            });
        }
        std::vector<Policy> out;
        for (auto& make : makers) out.push_back({make(KvCacheShape{1, 1, 4, kKvKeyGroup})->name(), std::move(make)});
        return out;
    }();
    return policies;
}

// Shapes the target builds caches for (small, and valid for every policy: head_dim a multiple of 4).
bool buildable(const KvSnapshot& s) {
    return s.n_layer >= 1 && s.n_layer <= 2 && s.n_head_kv >= 1 && s.n_head_kv <= 4 && s.head_dim >= 4 &&
           s.head_dim <= 64 && s.head_dim % 4 == 0;
}

// A deterministic key or value row element.
float element(int cell, int i, int salt) {
    return static_cast<float>((cell * 7 + i * 3 + salt) % 11) * 0.25f - 1.25f;
}

// Decodes `count` more tokens into `cache` as the decoder does: store every layer's row, attend over [0, p] in every
// layer and KV head (the query of the token at p), commit.
void decode_more(KvCache& cache, int count) {
    const KvCacheShape& shape = cache.shape();
    const std::size_t hd = static_cast<std::size_t>(shape.head_dim);
    std::vector<float> k(hd * shape.n_head_kv), v(k.size()), q(hd), out(hd), scratch(kCapacity);
    for (int t = 0; t < count && cache.size() < shape.capacity; ++t) {
        const int p = cache.size();
        for (std::size_t i = 0; i < k.size(); ++i) {
            k[i] = element(p, static_cast<int>(i), 1);
            v[i] = element(p, static_cast<int>(i), 5);
        }
        for (int l = 0; l < shape.n_layer; ++l) cache.store(l, p, k.data(), v.data());
        for (std::size_t i = 0; i < hd; ++i) q[i] = element(p, static_cast<int>(i), 3);
        for (int l = 0; l < shape.n_layer; ++l) {
            for (int h = 0; h < shape.n_head_kv; ++h) {
                float max = 0, sum = 0;
                cache.attend(l, h, q.data(), 1, 0, p + 1, 0.5f, out.data(), &max, &sum, scratch.data());
            }
        }
        cache.commit(p + 1);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const kasten::fuzz::Selected input = kasten::fuzz::select(data, size);
    std::string bytes(input.text);
    if (input.selector & 1) {
        const std::uint32_t crc = crc32c(bytes.data(), bytes.size());
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
    }
    kasten::Result<KvSnapshot> decoded = decode_kv_snapshot(bytes);
    if (!decoded.is_ok()) {
        const kasten::StatusCode code = decoded.status().code();
        KASTEN_FUZZ_CHECK(code == kasten::StatusCode::kCorruption || code == kasten::StatusCode::kNotSupported);
        KASTEN_FUZZ_CHECK(!decoded.status().message().empty());
        return 0;
    }
    const KvSnapshot& snapshot = decoded.value();
    KASTEN_FUZZ_CHECK(snapshot.state.data() >= bytes.data() &&
                      snapshot.state.data() + snapshot.state.size() <= bytes.data() + bytes.size());

    const Policy* policy = nullptr;
    for (const Policy& p : saved_policies()) {
        if (buildable(snapshot) && p.name == snapshot.cache) policy = &p;
    }
    const KvCacheShape shape = policy != nullptr
                                   ? KvCacheShape{snapshot.n_layer, snapshot.n_head_kv, snapshot.head_dim, kCapacity}
                                   : KvCacheShape{1, 1, 4, kCapacity};
    std::unique_ptr<KvCache> cache = (policy != nullptr ? policy->make : saved_policies().front().make)(shape);
    decode_more(*cache, 2);  // something for a refused restore to keep
    const std::string model_id = (input.selector & 2) ? snapshot.model_id + "-other" : snapshot.model_id;

    const kasten::Status restored = restore_kv_snapshot(snapshot, model_id, *cache);
    if (!restored.is_ok()) {
        KASTEN_FUZZ_CHECK(!restored.message().empty());
        if (restored.code() == kasten::StatusCode::kFailedPrecondition) {
            KASTEN_FUZZ_CHECK(cache->size() == 2);
        } else {
            KASTEN_FUZZ_CHECK(restored.code() == kasten::StatusCode::kInvalidArgument);
            KASTEN_FUZZ_CHECK(cache->size() == 0);
        }
        decode_more(*cache, 3);  // a refused or emptied cache still works
        return 0;
    }
    KASTEN_FUZZ_CHECK(policy != nullptr && !(input.selector & 2));
    KASTEN_FUZZ_CHECK(cache->size() == static_cast<int>(snapshot.tokens.size()));
    kasten::Result<std::string> again = encode_kv_snapshot(*cache, model_id, snapshot.tokens);
    KASTEN_FUZZ_CHECK(again.is_ok());
    KASTEN_FUZZ_CHECK(again.value() == bytes);

    // Enough tokens to fill the window and quantize a key group, then the cache still saves and decodes.
    decode_more(*cache, kKvKeyGroup + 8);
    std::vector<int> tokens(static_cast<std::size_t>(cache->size()), 1);
    kasten::Result<std::string> grown = encode_kv_snapshot(*cache, model_id, tokens);
    KASTEN_FUZZ_CHECK(grown.is_ok());
    KASTEN_FUZZ_CHECK(decode_kv_snapshot(grown.value()).is_ok());
    return 0;
}
