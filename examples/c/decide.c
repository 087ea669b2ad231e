/* One decision through the C ABI (libkeycard), from the README's tour.
 *
 *   cargo build -q -p keycard-ffi
 *   cc -I ffi/include examples/c/decide.c -L target/debug -Wl,-rpath,$PWD/target/debug -lkeycard -o /tmp/decide
 *   /tmp/decide
 */
#include <stdio.h>
#include "keycard.h"

int main(void) {
    keycard_engine *e = keycard_engine_open("policies", KEYCARD_WATCH);
    if (!e) { fprintf(stderr, "keycard: %s\n", keycard_last_error()); return 2; }

    const char *alice = "arn:aws:iam::111122223333:user/dev/alice";
    const char *report = "arn:aws:s3:::example-reports/2026/q1.csv";
    int d = keycard_authorize(e, alice, "s3:GetObject", report,
                              "{\"aws:SourceIp\": \"203.0.113.7\", \"aws:SecureTransport\": true}");
    if (d < 0) fprintf(stderr, "keycard: %s\n", keycard_last_error());
    printf("office: %d (%s)\n", d, d == KEYCARD_ALLOWED ? "allowed" : "denied");

    d = keycard_authorize(e, alice, "s3:GetObject", report,
                          "{\"aws:SourceIp\": \"198.51.100.9\", \"aws:SecureTransport\": true}");
    printf("elsewhere: %d (%s)\n", d, d == KEYCARD_EXPLICIT_DENY ? "explicit deny" : "other");

    keycard_engine_free(e);
    return 0;
}
