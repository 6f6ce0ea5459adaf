#include "llm/dot_kernels.h"

#include <cpuid.h>

#include <cstdlib>

#include "common/cpu_features.h"
#include "llm/quantization.h"

namespace kasten::llm {
namespace {

template <typename W, typename A, float (*F)(const W*, const A*, std::size_t)>
float erase(const void* w, const void* a, std::size_t n) {
    return F(static_cast<const W*>(w), static_cast<const A*>(a), n);
}

template <typename Y, void (*F)(const float*, Y*, std::size_t)>
void erase_quantizer(const float* x, void* y, std::size_t n) {
    F(x, static_cast<Y*>(y), n);
}

void copy_f32(const float* x, void* y, std::size_t n) {
    float* out = static_cast<float*>(y);
    for (std::size_t i = 0; i < n; ++i) out[i] = x[i];
}

struct FloatOps {
    float (*dot)(const float*, const float*, std::size_t);
    void (*axpy)(float, const float*, float*, std::size_t);
    void (*dot_rows)(const float*, const float*, std::size_t, std::size_t, float, float*);
    float (*exp_shifted)(float*, std::size_t, float);
    void (*accumulate_rows)(const float*, const float*, std::size_t, std::size_t, float*);
    void (*rms_norm)(const float*, const float*, std::size_t, float, float*);
    void (*silu_mul)(float*, const float*, std::size_t);
    void (*add)(float*, const float*, std::size_t);
};

FloatOps pick_float_ops() {
    if (avx2_supported()) {
        return {&avx2::dot_f32,
                &avx2::axpy_f32,
                &avx2::dot_rows_f32,
                &avx2::exp_shifted_f32,
                &avx2::accumulate_rows_f32,
                &avx2::rms_norm_f32,
                &avx2::silu_mul_f32,
                &avx2::add_f32};
    }
    return {&scalar::dot_f32,
            &scalar::axpy_f32,
            &scalar::dot_rows_f32,
            &scalar::exp_shifted_f32,
            &scalar::accumulate_rows_f32,
            &scalar::rms_norm_f32,
            &scalar::silu_mul_f32,
            &scalar::add_f32};
}

const FloatOps& float_ops() {
    static const FloatOps ops = pick_float_ops();
    return ops;
}

}  // namespace

bool avx2_supported() {
    static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    return supported;
}

bool avx512_vnni_supported() {
    static const bool supported = avx2_supported() && __builtin_cpu_supports("avx512f") &&
                                  __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    return supported;
}

bool avx_vnni_supported() {
    static const bool supported = avx2_supported() && cpu_leaf7_sub1_eax_bit(4);  // AVX-VNNI
    return supported;
}

bool amx_int8_supported() {
    static const bool supported = [] {
        if (!avx512_vnni_supported()) return false;
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
        if ((edx & (1u << 24)) == 0 || (edx & (1u << 25)) == 0) return false;  // AMX-TILE, AMX-INT8
        return request_amx_tile_state();
    }();
    return supported;
}

bool kernel_isa_supported(KernelIsa isa) {
    switch (isa) {
        case KernelIsa::kScalar:
            return true;
        case KernelIsa::kAvx2:
            return avx2_supported();
        case KernelIsa::kAvx512Vnni:
            return avx512_vnni_supported();
        case KernelIsa::kAvx512Amx:
            return amx_int8_supported();
    }
    return false;
}

const char* kernel_isa_name(KernelIsa isa) {
    switch (isa) {
        case KernelIsa::kScalar:
            return "scalar";
        case KernelIsa::kAvx2:
            return "avx2";
        case KernelIsa::kAvx512Vnni:
            return "avx512-vnni";
        case KernelIsa::kAvx512Amx:
            return "avx512-amx";
    }
    return "scalar";
}

bool parse_kernel_isa(std::string_view name, KernelIsa* out) {
    for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni, KernelIsa::kAvx512Amx}) {
        if (name == kernel_isa_name(isa)) {
            *out = isa;
            return true;
        }
    }
    return false;
}

KernelIsa best_kernel_isa() {
    static const KernelIsa best = [] {
        // kAvx512Amx only on request: on 64-token prompts it measured no faster than the VNNI kernels
        // (docs/benchmarks.md).
        KernelIsa isa = avx512_vnni_supported() ? KernelIsa::kAvx512Vnni
                        : avx2_supported()      ? KernelIsa::kAvx2
                                                : KernelIsa::kScalar;
        KernelIsa wanted = isa;
        const char* env = std::getenv("KASTEN_KERNEL_ISA");
        if (env != nullptr && parse_kernel_isa(env, &wanted) && kernel_isa_supported(wanted)) isa = wanted;
        return isa;
    }();
    return best;
}

WeightKernel weight_kernel(TensorType type, KernelIsa isa) {
    const bool v = isa != KernelIsa::kScalar;  // the AVX-512 level uses the AVX2 kernels it does not replace
    const bool z = isa == KernelIsa::kAvx512Vnni || isa == KernelIsa::kAvx512Amx;
    switch (type) {
        case TensorType::kF32:
            return {ActivationType::kF32,
                    v ? &erase<float, float, avx2::dot_f32> : &erase<float, float, scalar::dot_f32>};
        case TensorType::kF16:
            return {ActivationType::kF32, v ? &erase<std::uint16_t, float, avx2::dot_f16_f32>
                                            : &erase<std::uint16_t, float, scalar::dot_f16_f32>};
        case TensorType::kQ8_0:
            return {ActivationType::kQ8_0,
                    v ? &erase<BlockQ8_0, BlockQ8_0, avx2::dot_q8_0_q8_0>
                      : &erase<BlockQ8_0, BlockQ8_0, scalar::dot_q8_0_q8_0>,
                    z ? &erase<BlockQ8_0, BlockQ8_0, avx512::dot_q8_0_q8_0> : nullptr};
        case TensorType::kQ4_0:
            return {ActivationType::kQ8_0,
                    v ? &erase<BlockQ4_0, BlockQ8_0, avx2::dot_q4_0_q8_0>
                      : &erase<BlockQ4_0, BlockQ8_0, scalar::dot_q4_0_q8_0>,
                    z ? &erase<BlockQ4_0, BlockQ8_0, avx512::dot_q4_0_q8_0> : nullptr};
        case TensorType::kQ4_K:
            return {ActivationType::kQ8_K, v ? &erase<BlockQ4K, BlockQ8K, avx2::dot_q4_k_q8_k>
                                             : &erase<BlockQ4K, BlockQ8K, scalar::dot_q4_k_q8_k>};
        case TensorType::kQ6_K:
            return {ActivationType::kQ8_K, v ? &erase<BlockQ6K, BlockQ8K, avx2::dot_q6_k_q8_k>
                                             : &erase<BlockQ6K, BlockQ8K, scalar::dot_q6_k_q8_k>};
        default:
            return {};
    }
}

std::size_t activation_bytes(ActivationType type, std::size_t n) {
    switch (type) {
        case ActivationType::kF32:
            return n * sizeof(float);
        case ActivationType::kQ8_0:
            return n / kQk8_0 * sizeof(BlockQ8_0);
        case ActivationType::kQ8_K:
            return n / kQkK * sizeof(BlockQ8K);
    }
    return 0;
}

std::size_t activation_block(ActivationType type) {
    switch (type) {
        case ActivationType::kF32:
            return 1;
        case ActivationType::kQ8_0:
            return kQk8_0;
        case ActivationType::kQ8_K:
            return kQkK;
    }
    return 1;
}

QuantizeActivationFn activation_quantizer(ActivationType type, KernelIsa isa) {
    const bool v = isa != KernelIsa::kScalar;
    switch (type) {
        case ActivationType::kF32:
            return &copy_f32;
        case ActivationType::kQ8_0:
            return v ? &erase_quantizer<BlockQ8_0, avx2::quantize_row_q8_0>
                     : &erase_quantizer<BlockQ8_0, quantize_row_q8_0>;
        case ActivationType::kQ8_K:
            return v ? &erase_quantizer<BlockQ8K, avx2::quantize_row_q8_k>
                     : &erase_quantizer<BlockQ8K, quantize_row_q8_k>;
    }
    return &copy_f32;
}

float dot_f32(const float* a, const float* b, std::size_t n) {
    return float_ops().dot(a, b, n);
}

void axpy_f32(float a, const float* x, float* y, std::size_t n) {
    float_ops().axpy(a, x, y, n);
}

void dot_rows_f32(const float* q, const float* rows, std::size_t n_rows, std::size_t dim, float scale, float* out) {
    float_ops().dot_rows(q, rows, n_rows, dim, scale, out);
}

float exp_shifted_f32(float* s, std::size_t n, float max) {
    return float_ops().exp_shifted(s, n, max);
}

void accumulate_rows_f32(const float* p, const float* rows, std::size_t n_rows, std::size_t dim, float* out) {
    float_ops().accumulate_rows(p, rows, n_rows, dim, out);
}

void rms_norm_f32(const float* x, const float* w, std::size_t n, float eps, float* out) {
    float_ops().rms_norm(x, w, n, eps, out);
}

void silu_mul_f32(float* g, const float* u, std::size_t n) {
    float_ops().silu_mul(g, u, n);
}

void add_f32(float* x, const float* y, std::size_t n) {
    float_ops().add(x, y, n);
}

}  // namespace kasten::llm
