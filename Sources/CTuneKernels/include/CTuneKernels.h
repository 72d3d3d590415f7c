// Element-wise kernels of swift-tune's tensors that need the widest vectors the CPU has.
//
// Swift cannot compile one function for several instruction sets, C can: on x86-64 Linux each kernel is built for
// x86-64-v4 (AVX-512), x86-64-v3 (AVX2+FMA) and the baseline, and the loader picks the best the CPU runs (ifunc).
// Every kernel reads `n` floats from its inputs and writes `n` floats to `y`; inputs and output may be the same array.
#ifndef CTUNEKERNELS_H
#define CTUNEKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// y = exp(x); relative error about 1e-7; +inf above 88.72, 0 below -87.34, NaN propagated.
void tune_exp(const float *x, float *y, size_t n);
/// y = 1 / (1 + exp(-x)).
void tune_sigmoid(const float *x, float *y, size_t n);
/// y = tanh(x).
void tune_tanh(const float *x, float *y, size_t n);
/// y = x * sigmoid(x) (Swish, SiLU).
void tune_swish(const float *x, float *y, size_t n);
/// y = d swish / dx = s * (1 + x * (1 - s)) with s = sigmoid(x).
void tune_swish_derivative(const float *x, float *y, size_t n);
/// y = max(x, 0) + log1p(exp(-|x|)) (softplus, stable for every x).
void tune_softplus(const float *x, float *y, size_t n);
/// y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GELU, tanh approximation).
void tune_gelu_tanh(const float *x, float *y, size_t n);
/// y = d gelu_tanh / dx.
void tune_gelu_tanh_derivative(const float *x, float *y, size_t n);
/// y = g * s * (1 - s): the pullback of sigmoid from its output s.
void tune_sigmoid_backward(const float *g, const float *s, float *y, size_t n);
/// y = g * (1 - t * t): the pullback of tanh from its output t.
void tune_tanh_backward(const float *g, const float *t, float *y, size_t n);
/// y = x > 0 ? g : 0: the pullback of relu from its input x.
void tune_relu_backward(const float *g, const float *x, float *y, size_t n);

/// y[i] = a[i*sa] OP b[i*sb] for i < n, where each stride is 0 (a broadcast scalar) or 1. max and min propagate a NaN
/// from either side.
void tune_add(const float *a, size_t sa, const float *b, size_t sb, float *y, size_t n);
void tune_sub(const float *a, size_t sa, const float *b, size_t sb, float *y, size_t n);
void tune_mul(const float *a, size_t sa, const float *b, size_t sb, float *y, size_t n);
void tune_div(const float *a, size_t sa, const float *b, size_t sb, float *y, size_t n);
void tune_max(const float *a, size_t sa, const float *b, size_t sb, float *y, size_t n);
void tune_min(const float *a, size_t sa, const float *b, size_t sb, float *y, size_t n);
/// y = max(x, 0), NaN propagated.
void tune_relu(const float *x, float *y, size_t n);

/// One Adam step on n parameters, PyTorch's formula:
///   p *= decay (AdamW's decoupled weight decay; 1 for none); g' = g + l2 * p;
///   m += (1 - beta1) (g' - m); v = beta2 v + (1 - beta2) g'^2; s = vmax ? (vmax = max(vmax, v)) : v;
///   p -= step_size * m / (sqrt(s) / correction2_root + eps).
/// vmax is NULL without AMSGrad.
void tune_adam_update(float *p, const float *g, float *m, float *v, float *vmax, size_t n, float step_size,
                      float one_minus_beta1, float beta2, float one_minus_beta2, float eps, float correction2_root,
                      float l2, float decay);

/// The sum of squares of n floats, accumulated in 16 float lanes in a fixed order and then added in double.
double tune_sum_squares(const float *x, size_t n);

/// Philox4x32-10 blocks for counters (position + i, stream) with key (k0, k1), i < blocks, each of the 4 words turned
/// into a uniform float in [0, 1) with its top 24 bits: 4 * blocks floats in stream order. The counter's first two
/// words hold the 64-bit position, the last two the stream.
void tune_philox_uniform(uint32_t k0, uint32_t k1, uint64_t position, uint64_t stream, float *out, size_t blocks);

/// y = u >= p ? scale : 0 (an inverted-dropout mask from uniform draws u).
void tune_dropout_mask(const float *u, float *y, size_t n, float p, float scale);

/// Parses a decimal number `[+-]digits[.digits][(e|E)[+-]digits]` from the n bytes at p (nothing else around it):
/// 1 with the value in *out when it is one, computed exactly in double precision (up to 15 significant digits and a
/// power of ten up to 22) and rounded to float; 0 when the text is not in that form or needs more precision (the
/// caller then falls back to strtod).
int tune_parse_decimal(const uint8_t *p, size_t n, float *out);

/// The index of the first byte at or after `start` (and before `end`) equal to `delimiter`, CR or LF; `end` if none.
size_t tune_scan_field(const uint8_t *p, size_t start, size_t end, uint8_t delimiter);

/// Parses the rows of a CSV chunk without quote characters, bytes [start, end), `width` fields per row, into
/// column-major arrays with room for `capacity` rows: numbers[c * capacity + r] is the field's value when it is a
/// plain decimal (flags 0), else NaN with flags 1 (empty, a missing token, text: the caller looks again).
/// row_starts[r] is the offset of row r, row_lines[r] its 0-based line within the chunk; blank lines are skipped.
/// Returns the number of rows; on a row with another number of fields, returns -1 and sets *bad_row_line to its
/// 0-based line and *bad_row_fields to its field count. Stops (returning rows so far) when capacity is reached.
/// A line of nothing but spaces is blank. *lines receives the number of lines consumed.
long tune_parse_plain_csv(const uint8_t *p, size_t start, size_t end, uint8_t delimiter, size_t width, size_t capacity,
                          float *numbers, uint8_t *flags, int64_t *row_starts, int32_t *row_lines,
                          int64_t *bad_row_line, int64_t *bad_row_fields, size_t *stopped_at, int64_t *lines);

/// How many of the n bytes at p equal b.
size_t tune_count_byte(const uint8_t *p, size_t n, uint8_t b);

/// The name of the instruction set the kernels run with on this CPU ("x86-64-v4", "x86-64-v3" or "baseline").
const char *tune_kernels_isa(void);

#ifdef __cplusplus
}
#endif

#endif
