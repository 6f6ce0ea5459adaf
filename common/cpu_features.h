#pragma once

namespace kasten {

// Whether the CPU has F16C (half <-> single conversions), asked of CPUID (leaf 1, ECX bit 29) directly: clang 14
// has no "f16c" for __builtin_cpu_supports. Cheap; callers cache it if they ask per operation.
bool cpu_has_f16c();

// Bit `bit` of CPUID.(EAX=7, ECX=1):EAX (AVX-VNNI is bit 4, AVX512-BF16 bit 5); false where the leaf is missing.
bool cpu_leaf7_sub1_eax_bit(int bit);

// Asks Linux for the AMX tile data state for this process (arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA),
// once per process; true when granted. Call only on a CPU whose CPUID reports AMX-TILE.
bool request_amx_tile_state();

}  // namespace kasten
