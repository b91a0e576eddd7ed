// transpose16: a 16 x 16 float tile transposed in AVX-512 registers, and store_tile16, one tile of a
// blocked weight layout written through it (private to models/; used where weights are written
// into oneDNN's blocked layout: blocked_weight.cpp, nf4.cpp).
//
// Contract: r[i] holds row i of the tile on entry and column i on exit (r[j][i] = old r[i][j]).
// Call only from code compiled or marked for avx512f, on x86-64 with GCC or Clang.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <cstdint>

namespace opsbench::models {

// Pairs of rows interleaved, then pairs of pairs, then 128-bit lanes exchanged twice. (The
// zero-masking forms: GCC 12 flags the unmasked ones' undefined pass-through operand.)
__attribute__((target("avx512f"), always_inline)) inline void transpose16(__m512 r[16]) {
  __m512 a[16], b[16];
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_maskz_unpacklo_ps(0xFFFF, r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_maskz_unpackhi_ps(0xFFFF, r[2 * i], r[2 * i + 1]);
  }
  // b[4q + m], 128-bit lane L: column 4L + m of rows 4q..4q+3.
  for (int q = 0; q < 4; ++q) {
    const __m512d lo0 = _mm512_castps_pd(a[4 * q]), hi0 = _mm512_castps_pd(a[4 * q + 1]);
    const __m512d lo1 = _mm512_castps_pd(a[4 * q + 2]), hi1 = _mm512_castps_pd(a[4 * q + 3]);
    b[4 * q] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, lo0, lo1));
    b[4 * q + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, lo0, lo1));
    b[4 * q + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, hi0, hi1));
    b[4 * q + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, hi0, hi1));
  }
  // Column 4L + m takes lane L of b[m], b[4 + m], b[8 + m], b[12 + m].
  for (int m = 0; m < 4; ++m) {
    const __m512 d0 = _mm512_maskz_shuffle_f32x4(0xFFFF, b[m], b[4 + m], 0x44);
    const __m512 d1 = _mm512_maskz_shuffle_f32x4(0xFFFF, b[m], b[4 + m], 0xEE);
    const __m512 d2 = _mm512_maskz_shuffle_f32x4(0xFFFF, b[8 + m], b[12 + m], 0x44);
    const __m512 d3 = _mm512_maskz_shuffle_f32x4(0xFFFF, b[8 + m], b[12 + m], 0xEE);
    r[m] = _mm512_maskz_shuffle_f32x4(0xFFFF, d0, d2, 0x88);
    r[4 + m] = _mm512_maskz_shuffle_f32x4(0xFFFF, d0, d2, 0xDD);
    r[8 + m] = _mm512_maskz_shuffle_f32x4(0xFFFF, d1, d3, 0x88);
    r[12 + m] = _mm512_maskz_shuffle_f32x4(0xFFFF, d1, d3, 0xDD);
  }
}

// One tile of 16 inputs x `out_block` weight rows (a multiple of 16) in a blocked weight layout:
// tile[kk * out_block + n] = row(n)[kk], where row(n) gives the tile's 16 inputs of weight row n as
// a register (zero for rows past the weight's end). Rows are taken 16 at a time and transposed.
template <typename Row>
__attribute__((target("avx512f"), always_inline)) inline void store_tile16(std::int64_t out_block, float* tile,
                                                                           const Row& row) {
  for (std::int64_t n0 = 0; n0 < out_block; n0 += 16) {
    __m512 r[16];
    for (int i = 0; i < 16; ++i) r[i] = row(n0 + i);
    transpose16(r);
    for (int kk = 0; kk < 16; ++kk) _mm512_storeu_ps(tile + kk * out_block + n0, r[kk]);
  }
}

}  // namespace opsbench::models

#endif
