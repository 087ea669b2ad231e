/* keycard_authorize over the request stream of the benches' stream benchmark (benches/src/bin/
 * stream.rs writes DIR/stream.tsv and DIR/store/), timed call by call the way the Rust side times
 * Snapshot::decide on the same requests, so that (this − Rust) is the C ABI's cost per call:
 * reading the NUL-terminated arguments, building the request (and parsing the context JSON),
 * and the engine's current-snapshot lookup. Run by ffi/bench/stream.sh.
 *
 *   stream DIR [PASSES]
 *
 * Checks every decision against the expected column first (with the context, and with a NULL
 * context), then prints median and p99 ns per call for both. */

#define _POSIX_C_SOURCE 200809L
#include "keycard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct row {
    char *principal, *action, *resource, *context;
    int expected, expected_bare;
};

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank quantile of sorted values (as benches/src/stats.rs computes it). */
static double quantile(const double *v, size_t n, double q) {
    size_t rank = (size_t)(q * n + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return v[rank - 1];
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [PASSES]\n", argv[0]);
        return 2;
    }
    int passes = argc > 2 ? atoi(argv[2]) : 5;
    char path[4096];
    snprintf(path, sizeof path, "%s/stream.tsv", argv[1]);
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 2;
    }
    size_t cap = 1024, n = 0;
    struct row *rows = malloc(cap * sizeof *rows);
    char *line = NULL;
    size_t line_cap = 0;
    while (getline(&line, &line_cap, f) > 0) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || !line[0]) continue;
        char *fields[6] = {0};
        char *p = line;
        for (int i = 0; i < 6 && p; i++) {
            fields[i] = p;
            char *tab = strchr(p, '\t');
            if (tab) *tab++ = 0;
            p = tab;
        }
        if (!fields[5]) {
            fprintf(stderr, "malformed line %zu\n", n + 1);
            return 2;
        }
        if (n == cap) rows = realloc(rows, (cap *= 2) * sizeof *rows);
        rows[n].principal = strdup(fields[0]);
        rows[n].action = strdup(fields[1]);
        rows[n].resource = strdup(fields[2]);
        rows[n].context = strcmp(fields[3], "-") ? strdup(fields[3]) : NULL;
        rows[n].expected = atoi(fields[4]);
        rows[n].expected_bare = atoi(fields[5]);
        n++;
    }
    free(line);
    fclose(f);

    snprintf(path, sizeof path, "%s/store", argv[1]);
    keycard_engine *e = keycard_engine_open(path, 0);
    if (!e) {
        fprintf(stderr, "%s\n", keycard_last_error());
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        struct row *r = &rows[i];
        int d = keycard_authorize(e, r->principal, r->action, r->resource, r->context);
        int b = keycard_authorize(e, r->principal, r->action, r->resource, NULL);
        if (d != r->expected || b != r->expected_bare) {
            fprintf(stderr, "request %zu (%s %s %s): got %d/%d, expected %d/%d (%s)\n", i, r->principal, r->action,
                    r->resource, d, b, r->expected, r->expected_bare, keycard_last_error());
            return 1;
        }
    }

    double *overhead = malloc(200000 * sizeof *overhead);
    for (int i = 0; i < 200000; i++) {
        double t = now_ns();
        overhead[i] = now_ns() - t;
    }
    qsort(overhead, 200000, sizeof *overhead, cmp);
    double timer = quantile(overhead, 200000, 0.5);
    free(overhead);

    double *v = malloc(n * passes * sizeof *v);
    long checksum = 0;
    for (int with_context = 1; with_context >= 0; with_context--) {
        size_t k = 0;
        for (int p = 0; p < passes; p++) {
            for (size_t i = 0; i < n; i++) {
                struct row *r = &rows[i];
                const char *ctx = with_context ? r->context : NULL;
                double t = now_ns();
                checksum += keycard_authorize(e, r->principal, r->action, r->resource, ctx);
                double dt = now_ns() - t - timer;
                v[k++] = dt > 0 ? dt : 0;
            }
        }
        qsort(v, k, sizeof *v, cmp);
        printf("keycard_authorize, stream%s: median %.0f ns, p99 %.0f ns (%zu calls, timer %.0f ns subtracted)\n",
               with_context ? "" : ", context NULL", quantile(v, k, 0.5), quantile(v, k, 0.99), k, timer);
    }
    printf("checksum %ld\n", checksum);
    free(v);
    keycard_engine_free(e);
    return 0;
}
