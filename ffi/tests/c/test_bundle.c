/* keycard_engine_open with a bundle: verified with KEYCARD_BUNDLE_PUBLIC_KEY, refused when signed
 * by another key or when no key (nor KEYCARD_BUNDLE_INSECURE_UNSIGNED=1) is set.
 *
 *   test_bundle PUBLIC_KEY_PEM SIGNED_BUNDLE OTHER_KEY_BUNDLE UNSIGNED_BUNDLE
 *
 * Built and run by ffi/tests/c_api.rs. Exit 0 when all pass. */

#define _POSIX_C_SOURCE 200809L
#include "keycard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, what)                                                                      \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: %s (last error: %s)\n", __FILE__, __LINE__, #cond, what, \
                    keycard_last_error() ? keycard_last_error() : "NULL");                    \
        }                                                                                      \
    } while (0)

static int error_mentions(const char *text) {
    const char *e = keycard_last_error();
    return e != NULL && strstr(e, text) != NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s PUBLIC_KEY_PEM SIGNED OTHER_KEY UNSIGNED\n", argv[0]);
        return 2;
    }
    const char *key = argv[1], *signed_bundle = argv[2], *other = argv[3], *unsigned_bundle = argv[4];
    const char *alice = "arn:aws:iam::111122223333:user/alice";

    unsetenv("KEYCARD_BUNDLE_PUBLIC_KEY");
    unsetenv("KEYCARD_BUNDLE_INSECURE_UNSIGNED");
    CHECK(keycard_engine_open(signed_bundle, 0) == NULL, "no key set: a bundle is refused");
    CHECK(error_mentions("KEYCARD_BUNDLE_PUBLIC_KEY"), "the error names the variable");

    setenv("KEYCARD_BUNDLE_PUBLIC_KEY", key, 1);
    keycard_engine *engine = keycard_engine_open(signed_bundle, KEYCARD_WATCH);
    CHECK(engine != NULL, "a bundle signed by the key opens");
    if (engine) {
        CHECK(keycard_authorize(engine, alice, "s3:GetObject", "arn:aws:s3:::b1/x", NULL) == KEYCARD_ALLOWED,
              "decides from the bundle's store");
        CHECK(keycard_authorize(engine, alice, "s3:PutObject", "arn:aws:s3:::b1/x", NULL) == KEYCARD_IMPLICIT_DENY,
              "and denies what it does not allow");
        keycard_engine_free(engine);
    }
    CHECK(keycard_engine_open(other, 0) == NULL, "signed by another key: refused");
    CHECK(error_mentions("not trusted"), "the error says the key is not trusted");
    CHECK(keycard_engine_open(unsigned_bundle, 0) == NULL, "unsigned, with a key set: refused");
    CHECK(error_mentions("not signed"), "the error says it is not signed");

    setenv("KEYCARD_BUNDLE_INSECURE_UNSIGNED", "1", 1);
    CHECK(keycard_engine_open(unsigned_bundle, 0) == NULL, "a key set wins over the unsigned allowance");
    unsetenv("KEYCARD_BUNDLE_PUBLIC_KEY");
    engine = keycard_engine_open(unsigned_bundle, 0);
    CHECK(engine != NULL, "unsigned, explicitly allowed, no key set: opens");
    keycard_engine_free(engine);

    printf("test_bundle: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
