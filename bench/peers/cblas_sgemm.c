/*
 * cblas_sgemm.c - C/OpenBLAS reference point for swift-tune's sgemm.
 *
 * Usage:   cblas_sgemm N [SECONDS]
 * Build:   cc -O2 -o bench/peers/cblas_sgemm bench/peers/cblas_sgemm.c -lopenblas
 * Run:     OPENBLAS_CORETYPE=Cooperlake bench/peers/cblas_sgemm 1024
 *          (OPENBLAS_NUM_THREADS=k selects the thread count)
 *
 * Multiplies two NxN float32 matrices (row-major, no transposes) with
 * cblas_sgemm: one warm-up call, then repetitions for about SECONDS seconds
 * (default 1.0). Prints one JSON line with the BEST repetition's GFLOP/s:
 *
 *   {"tool":"c-cblas","kernel":"Cooperlake","threads":2,"n":1024,"gflops":...}
 */
#include <cblas.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Deterministic values in [-1, 1] from a 32-bit LCG. */
static void fill(float *m, size_t count, unsigned int seed) {
    unsigned int s = seed;
    for (size_t i = 0; i < count; i++) {
        s = s * 1664525u + 1013904223u;
        m[i] = (float)((double)(s >> 8) / (double)(1u << 24) * 2.0 - 1.0);
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s N [SECONDS]\n", argv[0]);
        return 2;
    }
    char *end;
    long n = strtol(argv[1], &end, 10);
    if (*end != '\0' || n <= 0 || n > 65536) {
        fprintf(stderr, "invalid N: %s\n", argv[1]);
        return 2;
    }
    double seconds = 1.0;
    if (argc == 3) {
        seconds = strtod(argv[2], &end);
        if (*end != '\0' || !(seconds >= 0.0)) {
            fprintf(stderr, "invalid SECONDS: %s\n", argv[2]);
            return 2;
        }
    }

    size_t count = (size_t)n * (size_t)n;
    float *a = malloc(count * sizeof(float));
    float *b = malloc(count * sizeof(float));
    float *c = malloc(count * sizeof(float));
    if (!a || !b || !c) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    fill(a, count, 1u);
    fill(b, count, 2u);
    memset(c, 0, count * sizeof(float));

    const int ni = (int)n;
#define SGEMM() cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, \
                            1.0f, a, ni, b, ni, 0.0f, c, ni)

    SGEMM(); /* warm-up: page in buffers, spin up the thread pool */

    double best = 1e300;
    double start = now_seconds();
    do {
        double t0 = now_seconds();
        SGEMM();
        double dt = now_seconds() - t0;
        if (dt < best) best = dt;
    } while (now_seconds() - start < seconds);

    double gflops = 2.0 * (double)n * (double)n * (double)n / best / 1e9;

    /* Core name as a JSON-safe token (it is a plain identifier in practice). */
    char kernel[64];
    const char *core = openblas_get_corename();
    size_t k = 0;
    for (; core && core[k] && k + 1 < sizeof kernel; k++)
        kernel[k] = (isprint((unsigned char)core[k]) && core[k] != '"' && core[k] != '\\')
                        ? core[k] : '_';
    kernel[k] = '\0';
    while (k > 0 && kernel[k - 1] == ' ') kernel[--k] = '\0';

    printf("{\"tool\":\"c-cblas\",\"kernel\":\"%s\",\"threads\":%d,\"n\":%ld,\"gflops\":%.2f}\n",
           kernel, openblas_get_num_threads(), n, gflops);

    free(a);
    free(b);
    free(c);
    return 0;
}
