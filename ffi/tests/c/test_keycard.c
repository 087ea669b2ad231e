/* The C ABI from C: every entry point, every error path, KEYCARD_WATCH, and 8 pthreads making
 * KEYCARD_TEST_DECISIONS decisions (default 1,000,000) while the store is reloaded.
 *
 *   test_keycard CASES_TSV POLICIES_DIR SCRATCH_DIR
 *
 * CASES_TSV: ffi/tests/cases.tsv (expected result, principal, action, resource, context or "-").
 * POLICIES_DIR: the default store (read only). SCRATCH_DIR: a copy of it that this test edits.
 * Built and run by ffi/tests/c_api.rs (cargo test) and ffi/valgrind.sh. Exit 0 when all pass. */

#define _POSIX_C_SOURCE 200809L
#include "keycard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                    \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fprintf(stderr, " (last error: %s)\n", keycard_last_error() ? keycard_last_error() : "NULL"); \
        }                                                                                      \
    } while (0)

typedef struct {
    int expected;
    char *principal, *action, *resource, *context; /* context NULL for "-" */
} test_case;

static test_case cases[64];
static int n_cases;

static char *dup_field(const char *s) {
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static void load_cases(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || line[0] == 0) continue;
        char *fields[5];
        int n = 0;
        char *p = line;
        while (n < 5) {
            fields[n++] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = 0;
            p = tab + 1;
        }
        if (n != 5 || n_cases == 64) {
            fprintf(stderr, "%s: bad line\n", path);
            exit(2);
        }
        test_case *c = &cases[n_cases++];
        c->expected = atoi(fields[0]);
        c->principal = dup_field(fields[1]);
        c->action = dup_field(fields[2]);
        c->resource = dup_field(fields[3]);
        c->context = strcmp(fields[4], "-") == 0 ? NULL : dup_field(fields[4]);
    }
    fclose(f);
}

static void free_cases(void) {
    for (int i = 0; i < n_cases; i++) {
        free(cases[i].principal);
        free(cases[i].action);
        free(cases[i].resource);
        free(cases[i].context);
    }
}

static int decide(const keycard_engine *e, const test_case *c) {
    return keycard_authorize(e, c->principal, c->action, c->resource, c->context);
}

static const char *decision_name(int d) {
    return d == 1 ? "allowed" : d == 2 ? "explicitDeny" : d == 0 ? "implicitDeny" : "error";
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* An extra account: zed may read anything. Adding it changes the snapshot, not the cases. */
static const char *ZED =
    "{\"AccountId\": \"999988887777\", \"UserDetailList\": [{\"UserName\": \"zed\", \"Path\": \"/\","
    " \"UserPolicyList\": [{\"PolicyName\": \"Read\", \"PolicyDocument\": {\"Version\": \"2012-10-17\","
    " \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]}}]}]}";
static const char *ZED_ARN = "arn:aws:iam::999988887777:user/zed";
static const char *REPORT = "arn:aws:s3:::example-reports/2026/q1.csv";
static const char *ZED_BUCKET = "arn:aws:s3:::zed-bucket/k";

static void test_cases(const keycard_engine *e) {
    char *snapshot = keycard_snapshot_id(e);
    CHECK(snapshot && strlen(snapshot) == 8, "snapshot id %s", snapshot ? snapshot : "NULL");
    for (int i = 0; i < n_cases; i++) {
        const test_case *c = &cases[i];
        int d = decide(e, c);
        CHECK(d == c->expected, "case %d: %s %s: got %d, want %d", i + 1, c->principal, c->action, d, c->expected);

        /* The same request through the JSON entry point. */
        char req[8192], want[128];
        snprintf(req, sizeof req, "{\"principal\": \"%s\", \"action\": \"%s\", \"resource\": \"%s\"%s%s%s}",
                 c->principal, c->action, c->resource, c->context ? ", \"context\": " : "",
                 c->context ? c->context : "", ", \"explain\": false");
        char *answer = keycard_authorize_json(e, req);
        snprintf(want, sizeof want, "{\"decision\":\"%s\",\"snapshot\":\"%s\"}", decision_name(c->expected),
                 snapshot ? snapshot : "");
        CHECK(answer && strcmp(answer, want) == 0, "case %d json: %s, want %s", i + 1, answer ? answer : "NULL", want);
        keycard_string_free(answer);

        /* And explained: the same decision, with the statements that decided. */
        char *explained = keycard_explain(e, c->principal, c->action, c->resource, c->context);
        snprintf(want, sizeof want, "\"decision\":\"%s\"", decision_name(c->expected));
        CHECK(explained && strstr(explained, want) && strstr(explained, "\"matched\""), "case %d explain: %s",
              i + 1, explained ? explained : "NULL");
        if (c->expected == 2) {
            CHECK(explained && strstr(explained, "Deny"), "case %d explain names the deny: %s", i + 1,
                  explained ? explained : "NULL");
        }
        keycard_string_free(explained);
    }
    keycard_string_free(snapshot);
}

static void *fresh_thread_last_error(void *arg) {
    (void)arg;
    return (void *)keycard_last_error(); /* NULL: the main thread's errors are not this thread's */
}

#define ERR(call, code, what)                                                                  \
    do {                                                                                       \
        int r_ = (call);                                                                       \
        const char *m_ = keycard_last_error();                                                 \
        CHECK(r_ == (code) && m_ && strstr(m_, what), "%s: got %d, message %s", #call, r_, m_ ? m_ : "NULL"); \
    } while (0)

#define ERR_NULL(call, what)                                                                   \
    do {                                                                                       \
        void *p_ = (void *)(call);                                                             \
        const char *m_ = keycard_last_error();                                                 \
        CHECK(p_ == NULL && m_ && strstr(m_, what), "%s: got %p, message %s", #call, p_, m_ ? m_ : "NULL"); \
        keycard_string_free(p_);                                                               \
    } while (0)

static void test_errors(const keycard_engine *e, const char *scratch) {
    const char *P = "arn:aws:iam::111122223333:user/dev/alice", *A = "s3:GetObject";
    const char *bad = "arn:aws:iam::111122223333:user/\xff\xfe";

    ERR(keycard_authorize(NULL, P, A, REPORT, NULL), KEYCARD_ERR_NULL, "engine is NULL");
    ERR(keycard_authorize(e, NULL, A, REPORT, NULL), KEYCARD_ERR_NULL, "principal is NULL");
    ERR(keycard_authorize(e, P, NULL, REPORT, NULL), KEYCARD_ERR_NULL, "action is NULL");
    ERR(keycard_authorize(e, P, A, NULL, NULL), KEYCARD_ERR_NULL, "resource is NULL");
    ERR(keycard_authorize(e, bad, A, REPORT, NULL), KEYCARD_ERR_UTF8, "principal is not valid UTF-8");
    ERR(keycard_authorize(e, P, "s3:Get\xc3", REPORT, NULL), KEYCARD_ERR_UTF8, "action is not valid UTF-8");
    ERR(keycard_authorize(e, P, A, "arn:aws:s3:::\x80", NULL), KEYCARD_ERR_UTF8, "resource is not valid UTF-8");
    ERR(keycard_authorize(e, P, A, REPORT, "{\"aws:SourceIp\": \"\xff\"}"), KEYCARD_ERR_UTF8,
        "context_json is not valid UTF-8");
    ERR(keycard_authorize(e, P, A, REPORT, "{"), KEYCARD_ERR_REQUEST, "invalid JSON");
    ERR(keycard_authorize(e, P, A, REPORT, ""), KEYCARD_ERR_REQUEST, "invalid JSON");
    ERR(keycard_authorize(e, P, A, REPORT, "[1]"), KEYCARD_ERR_REQUEST, "/context");
    ERR(keycard_authorize(e, P, A, REPORT, "{\"aws:SourceIp\": {}}"), KEYCARD_ERR_REQUEST, "/context/aws:SourceIp");
    ERR(keycard_authorize(e, P, A, REPORT, "{\"aws:username\": \"alice\"}"), KEYCARD_ERR_REQUEST, "aws:username");
    ERR(keycard_authorize(e, P, "GetObject", REPORT, NULL), KEYCARD_ERR_REQUEST, "/action");
    ERR(keycard_authorize(e, "alice", A, REPORT, NULL), KEYCARD_ERR_REQUEST, "/principal");
    ERR(keycard_authorize(e, P, A, "", NULL), KEYCARD_ERR_REQUEST, "/resource");

    /* keycard_authorize_json: NULL only for NULL and non-UTF-8 input; else an error answer. */
    ERR_NULL(keycard_authorize_json(NULL, "{}"), "engine is NULL");
    ERR_NULL(keycard_authorize_json(e, NULL), "request_json is NULL");
    ERR_NULL(keycard_authorize_json(e, "{\"principal\": \"\xff\"}"), "request_json is not valid UTF-8");
    struct {
        const char *request, *answer_has, *error_has;
    } bad_json[] = {
        {"{", "\"error\"", "invalid JSON"},
        {"", "\"error\"", "invalid JSON"},
        {"[]", "\"error\"", "expected a request object"},
        {"{\"principal\": \"arn:aws:iam::111122223333:user/dev/alice\", \"action\": \"s3:GetObject\"}",
         "\"field\":\"/resource\"", "/resource"},
        {"{\"principal\": \"*\", \"action\": \"s3:GetObject\", \"resource\": \"*\", \"bogus\": 1}",
         "\"field\":\"/bogus\"", "unknown field"},
        {"{\"principal\": \"*\", \"action\": \"s3:GetObject\", \"resource\": \"*\", \"context\": {\"aws:SourceIp\": null}}",
         "\"field\":\"/context/aws:SourceIp\"", "/context/aws:SourceIp"},
    };
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        char *answer = keycard_authorize_json(e, bad_json[i].request);
        const char *m = keycard_last_error();
        CHECK(answer && strstr(answer, bad_json[i].answer_has) && !strstr(answer, "allowed"), "json %zu: answer %s",
              i, answer ? answer : "NULL");
        CHECK(m && strstr(m, bad_json[i].error_has), "json %zu: message %s", i, m ? m : "NULL");
        keycard_string_free(answer);
    }

    ERR_NULL(keycard_explain(NULL, P, A, REPORT, NULL), "engine is NULL");
    ERR_NULL(keycard_explain(e, P, NULL, REPORT, NULL), "action is NULL");
    ERR_NULL(keycard_explain(e, P, A, REPORT, "{\"a\": "), "invalid JSON");
    ERR_NULL(keycard_explain(e, bad, A, REPORT, NULL), "not valid UTF-8");
    ERR_NULL(keycard_snapshot_id(NULL), "engine is NULL");
    ERR(keycard_reload(NULL), KEYCARD_ERR_NULL, "engine is NULL");

    ERR_NULL(keycard_engine_open(NULL, 0), "policies_path is NULL");
    ERR_NULL(keycard_engine_open("/nonexistent/keycard/store\xff", 0), "not valid UTF-8");
    ERR_NULL(keycard_engine_open("/nonexistent/keycard/store", 0), "/nonexistent/keycard/store");
    ERR_NULL(keycard_engine_open(scratch, 0x80), "unknown flags");
    ERR_NULL(keycard_engine_open(scratch, KEYCARD_WATCH | 2), "unknown flags");

    /* A broken document: open fails, naming the file. */
    write_file(scratch, "broken.json", "{ \"UserDetailList\": [");
    ERR_NULL(keycard_engine_open(scratch, 0), "broken.json");
    remove_file(scratch, "broken.json");

    /* Freeing NULL is allowed and changes nothing. */
    keycard_engine_free(NULL);
    keycard_string_free(NULL);

    /* The last error is per thread. */
    pthread_t t;
    void *other = (void *)1;
    pthread_create(&t, NULL, fresh_thread_last_error, NULL);
    pthread_join(t, &other);
    CHECK(other == NULL && keycard_last_error() != NULL, "last error is thread-local");
}

/* Reloads: explicit (keycard_reload) and on file change (KEYCARD_WATCH). */
static void test_reload(const char *scratch) {
    keycard_engine *e = keycard_engine_open(scratch, KEYCARD_WATCH);
    CHECK(e != NULL, "open %s with KEYCARD_WATCH", scratch);
    if (!e) return;
    char *before = keycard_snapshot_id(e);
    CHECK(keycard_authorize(e, ZED_ARN, "s3:GetObject", ZED_BUCKET, NULL) == 0, "zed unknown yet");

    write_file(scratch, "zed.json", ZED);
    int d = 0;
    for (int i = 0; i < 1000 && d != 1; i++) { /* up to 20 s: valgrind is slow */
        sleep_ms(20);
        d = keycard_authorize(e, ZED_ARN, "s3:GetObject", ZED_BUCKET, NULL);
    }
    CHECK(d == 1, "KEYCARD_WATCH saw zed.json: got %d", d);
    char *after = keycard_snapshot_id(e);
    CHECK(before && after && strcmp(before, after) != 0, "snapshot changed: %s -> %s", before ? before : "NULL",
          after ? after : "NULL");

    /* A broken edit: reload fails, the last good snapshot still serves. */
    write_file(scratch, "zed.json", "{ broken");
    ERR(keycard_reload(e), KEYCARD_ERR_LOAD, "zed.json");
    CHECK(keycard_authorize(e, ZED_ARN, "s3:GetObject", ZED_BUCKET, NULL) == 1, "last good snapshot serves");
    remove_file(scratch, "zed.json");
    CHECK(keycard_reload(e) == 0, "reload after the fix");
    CHECK(keycard_authorize(e, ZED_ARN, "s3:GetObject", ZED_BUCKET, NULL) == 0, "zed gone");
    char *back = keycard_snapshot_id(e);
    CHECK(before && back && strcmp(before, back) == 0, "same store, same snapshot id");
    keycard_string_free(before);
    keycard_string_free(after);
    keycard_string_free(back);

    /* Without KEYCARD_WATCH, keycard_reload still reloads. */
    keycard_engine *still = keycard_engine_open(scratch, 0);
    CHECK(still != NULL, "open without watch");
    write_file(scratch, "zed.json", ZED);
    CHECK(keycard_reload(still) == 0 && keycard_authorize(still, ZED_ARN, "s3:GetObject", ZED_BUCKET, NULL) == 1,
          "explicit reload");
    remove_file(scratch, "zed.json");
    CHECK(keycard_reload(still) == 0, "reload");
    keycard_engine_free(still);
    keycard_engine_free(e);
}

typedef struct {
    const keycard_engine *engine;
    long decisions, mismatches, errors;
    int index;
} worker;

static atomic_int workers_done;

static void *work(void *arg) {
    worker *w = arg;
    for (long i = 0; i < w->decisions; i++) {
        const test_case *c = &cases[(i + w->index) % n_cases];
        int d = decide(w->engine, c);
        if (d < 0) w->errors++;
        else if (d != c->expected) w->mismatches++;
    }
    atomic_fetch_add(&workers_done, 1);
    return NULL;
}

/* 8 threads share one engine while the main thread keeps reloading the store (adding and
 * removing zed.json, which changes the snapshot but none of the cases' answers). */
static void test_threads(const char *scratch, long total) {
    keycard_engine *e = keycard_engine_open(scratch, KEYCARD_WATCH);
    CHECK(e != NULL, "open for threads");
    if (!e) return;
    enum { THREADS = 8 };
    pthread_t threads[THREADS];
    worker workers[THREADS];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){e, total / THREADS + (i < total % THREADS), 0, 0, i};
        pthread_create(&threads[i], NULL, work, &workers[i]);
    }
    /* At least one reload, even when the workers finish first (valgrind runs one thread at a
     * time, so they may never overlap with the reloads under it). */
    long reloads = 0, reload_errors = 0;
    do {
        if (reloads % 2 == 0) write_file(scratch, "zed.json", ZED);
        else remove_file(scratch, "zed.json");
        if (keycard_reload(e) != 0) reload_errors++;
        reloads++;
        sleep_ms(20);
    } while (atomic_load(&workers_done) < THREADS);
    long decisions = 0, mismatches = 0, errors = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        decisions += workers[i].decisions;
        mismatches += workers[i].mismatches;
        errors += workers[i].errors;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    remove_file(scratch, "zed.json");
    double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("threads: %d threads, %ld decisions in %.2f s, %ld reloads meanwhile\n", THREADS, decisions, secs, reloads);
    CHECK(decisions == total, "decisions %ld of %ld", decisions, total);
    CHECK(mismatches == 0 && errors == 0, "%ld mismatches, %ld errors", mismatches, errors);
    CHECK(reload_errors == 0, "%ld reload errors", reload_errors);
    keycard_engine_free(e);
}

/* keycard_engine_open_with and its options handle: the same engine as keycard_engine_open, and
 * the setters' errors. */
static void test_options(const char *policies, const char *scratch) {
    keycard_options *o = keycard_options_new();
    CHECK(o != NULL, "keycard_options_new");
    CHECK(keycard_options_set_watch(o, 1) == 0, "set_watch");
    CHECK(keycard_options_set_watch(NULL, 1) == KEYCARD_ERR_NULL, "set_watch(NULL)");
    char missing[512];
    snprintf(missing, sizeof missing, "%s/no-such-key-file", scratch);
    CHECK(keycard_options_set_sts_key_file(o, missing) == KEYCARD_ERR_LOAD, "a missing key file is refused");
    CHECK(keycard_last_error() && strstr(keycard_last_error(), "no-such-key-file"), "the error names the file: %s",
          keycard_last_error() ? keycard_last_error() : "NULL");
    write_file(scratch, "sts.keys", "0123456789abcdef0123456789abcdef0123\n");
    char keys[512];
    snprintf(keys, sizeof keys, "%s/sts.keys", scratch);
    CHECK(keycard_options_set_sts_key_file(o, keys) == 0, "a key file: %s",
          keycard_last_error() ? keycard_last_error() : "NULL");
    CHECK(keycard_engine_open_with(policies, NULL) == NULL, "NULL options");
    keycard_engine *e = keycard_engine_open_with(policies, o);
    keycard_options_free(o); /* the engine keeps nothing of it */
    CHECK(e != NULL, "open_with %s", policies);
    if (e) {
        test_cases(e);
        keycard_engine_free(e);
    }
    remove_file(scratch, "sts.keys");
    keycard_options_free(NULL);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s CASES_TSV POLICIES_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    const char *env = getenv("KEYCARD_TEST_DECISIONS");
    long total = env ? atol(env) : 1000000L;
    load_cases(argv[1]);
    CHECK(n_cases >= 8, "%d cases", n_cases);

    CHECK(keycard_last_error() == NULL, "no error yet");
    const char *version = keycard_version();
    CHECK(version && strlen(version) > 0, "version");
    printf("libkeycard %s, %d cases\n", version ? version : "?", n_cases);

    keycard_engine *e = keycard_engine_open(argv[2], 0);
    CHECK(e != NULL, "open %s", argv[2]);
    if (e) {
        test_cases(e);
        test_errors(e, argv[3]);
        keycard_engine_free(e);
    }
    test_options(argv[2], argv[3]);
    test_reload(argv[3]);
    test_threads(argv[3], total);
    free_cases();

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
