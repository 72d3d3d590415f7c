// Element-wise kernels, written as plain loops over branch-free scalar code that the compiler vectorises, and built
// once per instruction set where the platform can dispatch at load time. See CTuneKernels.h.
#include "CTuneKernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#define TUNE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define TUNE_DISPATCH 1
#else
#define TUNE_CLONES
#define TUNE_DISPATCH 0
#endif

// sqrt without errno (sqrtf may set errno, which keeps the compiler from vectorising a loop that calls it).
#if defined(__clang__) && __has_builtin(__builtin_elementwise_sqrt)
#define TUNE_SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define TUNE_SQRT(x) sqrtf(x)
#endif

static inline float bits_to_float(int32_t b) { float f; memcpy(&f, &b, sizeof f); return f; }
static inline int32_t float_to_bits(float f) { int32_t b; memcpy(&b, &f, sizeof b); return b; }

// exp(x): Cody-Waite reduction x = n ln2 + r and a degree-6 polynomial for e^r (Cephes expf); n is rounded with the
// 1.5 * 2^23 trick and 2^n built from exponent bits in two halves, so n = 128 does not overflow.
static inline float exp1(float x) {
    const float hi = 88.72283f, lo = -87.33654f;
    float v = x > hi ? hi : x;
    v = v < lo ? lo : v;
    const float r = v * 1.44269504088896341f + 12582912.0f;
    const float fn = r - 12582912.0f;
    const int32_t n = float_to_bits(r) - 0x4B400000;
    v = v - fn * 0.693359375f;
    v = v - fn * -2.12194440e-4f;
    const float z = v * v;
    float y = 1.9875691500e-4f;
    y = y * v + 1.3981999507e-3f;
    y = y * v + 8.3334519073e-3f;
    y = y * v + 4.1665795894e-2f;
    y = y * v + 1.6666665459e-1f;
    y = y * v + 5.0000001201e-1f;
    y = y * z + v + 1.0f;
    const int32_t n1 = n >> 1, n2 = n - n1;
    y = y * bits_to_float((n1 + 127) << 23) * bits_to_float((n2 + 127) << 23);
    y = x < lo ? 0.0f : y;
    y = x > hi ? __builtin_inff() : y;
    return x != x ? x : y;
}

static inline float sigmoid1(float x) { return 1.0f / (1.0f + exp1(-x)); }

// tanh(x): an odd polynomial below |x| = 0.625 (Cephes tanhf), 1 - 2 / (exp(2|x|) + 1) above, sign restored.
static inline float tanh1(float x) {
    const float ax = fabsf(x);
    const float s = x * x;
    float p = -5.70498872745e-3f;
    p = p * s + 2.06390887954e-2f;
    p = p * s - 5.37397155531e-2f;
    p = p * s + 1.33314422036e-1f;
    p = p * s - 3.33332819422e-1f;
    const float small = p * s * x + x;
    float large = 1.0f - 2.0f / (exp1(ax + ax) + 1.0f);
    large = x < 0 ? -large : large;
    return ax >= 0.625f ? large : small;
}

TUNE_CLONES void tune_exp(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = exp1(x[i]);
}

TUNE_CLONES void tune_sigmoid(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = sigmoid1(x[i]);
}

TUNE_CLONES void tune_tanh(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = tanh1(x[i]);
}

TUNE_CLONES void tune_swish(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] * sigmoid1(x[i]);
}

TUNE_CLONES void tune_swish_derivative(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float s = sigmoid1(x[i]);
        y[i] = s * (1.0f + x[i] * (1.0f - s));
    }
}

TUNE_CLONES void tune_softplus(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        y[i] = (v > 0 ? v : 0.0f) + log1pf(exp1(-fabsf(v)));
    }
}

TUNE_CLONES void tune_gelu_tanh(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        const float t = tanh1(0.79788456080286536f * (v + 0.044715f * v * v * v));
        y[i] = 0.5f * v * (1.0f + t);
    }
}

TUNE_CLONES void tune_gelu_tanh_derivative(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i], v2 = v * v;
        const float t = tanh1(0.79788456080286536f * (v + 0.044715f * v2 * v));
        const float inner = 0.79788456080286536f * (1.0f + 0.134145f * v2);
        y[i] = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * inner;
    }
}

TUNE_CLONES void tune_sigmoid_backward(const float *g, const float *s, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = g[i] * (s[i] * (1.0f - s[i]));
}

TUNE_CLONES void tune_tanh_backward(const float *g, const float *t, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = g[i] * (1.0f - t[i] * t[i]);
}

TUNE_CLONES void tune_relu_backward(const float *g, const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? g[i] : 0.0f;
}

// Binary kernels: one loop per stride combination, so that each loop is a plain vectorisable loop.
#define TUNE_BINARY(name, expr)                                                                     \
    TUNE_CLONES void name(const float *a, size_t sa, const float *b, size_t sb, float *y, size_t n) { \
        if (sa && sb) {                                                                             \
            for (size_t i = 0; i < n; i++) { const float u = a[i], v = b[i]; y[i] = (expr); }       \
        } else if (sa) {                                                                            \
            const float v = b[0];                                                                   \
            for (size_t i = 0; i < n; i++) { const float u = a[i]; y[i] = (expr); }                 \
        } else if (sb) {                                                                            \
            const float u = a[0];                                                                   \
            for (size_t i = 0; i < n; i++) { const float v = b[i]; y[i] = (expr); }                 \
        } else {                                                                                    \
            const float u = a[0], v = b[0], r = (expr);                                             \
            for (size_t i = 0; i < n; i++) y[i] = r;                                                \
        }                                                                                           \
    }

TUNE_BINARY(tune_add, u + v)
TUNE_BINARY(tune_sub, u - v)
TUNE_BINARY(tune_mul, u * v)
TUNE_BINARY(tune_div, u / v)
TUNE_BINARY(tune_max, v != v ? v : (v > u ? v : u))
TUNE_BINARY(tune_min, v != v ? v : (v < u ? v : u))

TUNE_CLONES void tune_relu(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0.0f : x[i];
}

TUNE_CLONES void tune_adam_update(float *p, const float *g, float *m, float *v, float *vmax, size_t n, float step_size,
                                  float one_minus_beta1, float beta2, float one_minus_beta2, float eps,
                                  float correction2_root, float l2, float decay) {
    if (vmax) {
        for (size_t i = 0; i < n; i++) {
            const float pi = p[i] * decay;
            const float gi = g[i] + l2 * pi;
            const float mi = m[i] + one_minus_beta1 * (gi - m[i]);
            const float vi = beta2 * v[i] + one_minus_beta2 * gi * gi;
            const float si = vmax[i] > vi ? vmax[i] : vi;
            m[i] = mi;
            v[i] = vi;
            vmax[i] = si;
            p[i] = pi - step_size * (mi / (TUNE_SQRT(si) / correction2_root + eps));
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            const float pi = p[i] * decay;
            const float gi = g[i] + l2 * pi;
            const float mi = m[i] + one_minus_beta1 * (gi - m[i]);
            const float vi = beta2 * v[i] + one_minus_beta2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = pi - step_size * (mi / (TUNE_SQRT(vi) / correction2_root + eps));
        }
    }
}

TUNE_CLONES double tune_sum_squares(const float *x, size_t n) {
    float lanes[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 16; k++) lanes[k] += x[i + k] * x[i + k];
    }
    double total = 0;
    for (int k = 0; k < 16; k++) total += lanes[k];
    for (; i < n; i++) total += (double)x[i] * x[i];
    return total;
}

TUNE_CLONES void tune_philox_uniform(uint32_t k0, uint32_t k1, uint64_t position, uint64_t stream, float *out, size_t blocks) {
    const uint32_t s0 = (uint32_t)stream, s1 = (uint32_t)(stream >> 32);
    for (size_t i = 0; i < blocks; i++) {
        const uint64_t at = position + i;
        uint32_t c0 = (uint32_t)at, c1 = (uint32_t)(at >> 32), c2 = s0, c3 = s1;
        uint32_t a = k0, b = k1;
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                a += 0x9E3779B9u;
                b += 0xBB67AE85u;
            }
            const uint64_t p0 = (uint64_t)0xD2511F53u * c0;
            const uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
            const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ a;
            const uint32_t n1 = (uint32_t)p1;
            const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ b;
            const uint32_t n3 = (uint32_t)p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        }
        out[4 * i + 0] = (float)(c0 >> 8) * 0x1p-24f;
        out[4 * i + 1] = (float)(c1 >> 8) * 0x1p-24f;
        out[4 * i + 2] = (float)(c2 >> 8) * 0x1p-24f;
        out[4 * i + 3] = (float)(c3 >> 8) * 0x1p-24f;
    }
}

TUNE_CLONES void tune_dropout_mask(const float *u, float *y, size_t n, float p, float scale) {
    for (size_t i = 0; i < n; i++) y[i] = u[i] >= p ? scale : 0.0f;
}

static const double tune_powers_of_ten[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int tune_parse_decimal(const uint8_t *p, size_t n, float *out) {
    size_t i = 0;
    if (n == 0) return 0;
    int negative = 0;
    if (p[0] == '-') { negative = 1; i = 1; } else if (p[0] == '+') { i = 1; }
    uint64_t mantissa = 0;
    int digits = 0, fraction = 0;
    while (i < n && (unsigned)(p[i] - '0') < 10) { mantissa = mantissa * 10 + (p[i] - '0'); digits++; i++; }
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && (unsigned)(p[i] - '0') < 10) { mantissa = mantissa * 10 + (p[i] - '0'); digits++; fraction++; i++; }
    }
    if (digits == 0) return 0;
    int exponent = 0;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        int negative_exponent = 0;
        if (i < n && p[i] == '-') { negative_exponent = 1; i++; } else if (i < n && p[i] == '+') { i++; }
        size_t start = i;
        while (i < n && (unsigned)(p[i] - '0') < 10) { if (exponent < 10000) exponent = exponent * 10 + (p[i] - '0'); i++; }
        if (i == start) return 0;
        if (negative_exponent) exponent = -exponent;
    }
    if (i != n) return 0;
    exponent -= fraction;
    if (digits > 15 || exponent < -22 || exponent > 22) return 0;
    double value = (double)mantissa;
    value = exponent < 0 ? value / tune_powers_of_ten[-exponent] : value * tune_powers_of_ten[exponent];
    *out = (float)(negative ? -value : value);
    return 1;
}

size_t tune_scan_field(const uint8_t *p, size_t start, size_t end, uint8_t delimiter) {
    size_t i = start;
    while (i < end) {
        const uint8_t b = p[i];
        if (b == delimiter || b == '\n' || b == '\r') break;
        i++;
    }
    return i;
}

long tune_parse_plain_csv(const uint8_t *p, size_t start, size_t end, uint8_t delimiter, size_t width, size_t capacity,
                          float *numbers, uint8_t *flags, int64_t *row_starts, int32_t *row_lines,
                          int64_t *bad_row_line, int64_t *bad_row_fields, size_t *stopped_at, int64_t *lines) {
    size_t i = start;
    long rows = 0;
    int32_t line = 0;
    while (i < end) {
        if ((size_t)rows == capacity) break;
        /* A blank line (or one of nothing but spaces). */
        size_t j = i;
        if (delimiter != ' ') while (j < end && p[j] == ' ') j++;
        if (j == end && j > i) { i = j; break; }
        if (j < end && p[j] == '\n') { i = j + 1; line++; continue; }
        if (j < end && p[j] == '\r') { i = j + 1; if (i < end && p[i] == '\n') i++; line++; continue; }
        const size_t row_start = i;
        size_t field = 0;
        for (;;) {
            while (i < end && p[i] == ' ' && delimiter != ' ') i++;
            const size_t field_start = i;
            while (i < end && p[i] != delimiter && p[i] != '\n' && p[i] != '\r') i++;
            size_t field_end = i;
            while (field_end > field_start && p[field_end - 1] == ' ') field_end--;
            if (field < width) {
                float value;
                const size_t at = field * capacity + (size_t)rows;
                if (field_end > field_start && tune_parse_decimal(p + field_start, field_end - field_start, &value)) {
                    numbers[at] = value;
                    flags[at] = 0;
                } else {
                    numbers[at] = __builtin_nanf("");
                    flags[at] = 1;
                }
            }
            field++;
            if (i < end && p[i] == delimiter) { i++; continue; }
            break;
        }
        if (i < end && p[i] == '\r') { i++; if (i < end && p[i] == '\n') i++; } else if (i < end && p[i] == '\n') i++;
        if (field != width) {
            *bad_row_line = line;
            *bad_row_fields = (int64_t)field;
            return -1;
        }
        row_starts[rows] = (int64_t)row_start;
        row_lines[rows] = line;
        rows++;
        line++;
    }
    *stopped_at = i;
    *lines = line;
    return rows;
}

TUNE_CLONES size_t tune_count_byte(const uint8_t *p, size_t n, uint8_t b) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += p[i] == b;
    return count;
}

const char *tune_kernels_isa(void) {
#if TUNE_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4";
    if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3";
#endif
    return "baseline";
}
