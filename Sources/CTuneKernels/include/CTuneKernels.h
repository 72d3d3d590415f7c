// Element-wise kernels of swift-tune's tensors that need the widest vectors the CPU has.
//
// Swift cannot compile one function for several instruction sets, C can: on x86-64 Linux each kernel is built for
// x86-64-v4 (AVX-512), x86-64-v3 (AVX2+FMA) and the baseline, and the loader picks the best the CPU runs (ifunc).
// Every kernel reads `n` floats from its inputs and writes `n` floats to `y`; inputs and output may be the same array.
#ifndef CTUNEKERNELS_H
#define CTUNEKERNELS_H

#include <stddef.h>

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

/// The name of the instruction set the kernels run with on this CPU ("x86-64-v4", "x86-64-v3" or "baseline").
const char *tune_kernels_isa(void);

#ifdef __cplusplus
}
#endif

#endif
