/* keycard_authorize's cost per call from a plain C program: the same cases (ffi/tests/cases.tsv),
 * the same loop and the same timing as ffi/examples/rust_api.rs, which compares the C ABI with the
 * Rust API in one process. Run by ffi/bench.sh.
 *
 *   overhead CASES_TSV POLICIES_DIR [ROUNDS] [CALLS_PER_ROUND]
 *
 * Prints one line per round: "round N: X.X ns/call". */

#define _POSIX_C_SOURCE 200809L
#include "keycard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char fields[64][5][512];
static int n;

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s CASES_TSV POLICIES_DIR [ROUNDS] [CALLS]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 15;
    long calls = argc > 4 ? atol(argv[4]) : 400000;
    FILE *f = fopen(argv[1], "r");
    if (!f) return 2;
    char line[4096];
    while (n < 64 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || !line[0]) continue;
        char *p = line;
        for (int i = 0; i < 5; i++) {
            char *tab = strchr(p, '\t');
            if (tab) *tab = 0;
            snprintf(fields[n][i], sizeof fields[n][i], "%s", p);
            p = tab ? tab + 1 : p + strlen(p);
        }
        n++;
    }
    fclose(f);
    keycard_engine *e = keycard_engine_open(argv[2], 0);
    if (!e) {
        fprintf(stderr, "%s\n", keycard_last_error());
        return 1;
    }
    const char *ctx[64];
    for (int i = 0; i < n; i++) ctx[i] = strcmp(fields[i][4], "-") ? fields[i][4] : NULL;
    long checksum = 0;
    for (int r = 0; r < rounds; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; i < calls; i++) {
            int c = (int)(i % n);
            checksum += keycard_authorize(e, fields[c][1], fields[c][2], fields[c][3], ctx[c]);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / calls;
        printf("round %d: %.1f ns/call\n", r, ns);
    }
    printf("checksum %ld\n", checksum);
    keycard_engine_free(e);
    return 0;
}
