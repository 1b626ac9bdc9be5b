/* log_digest_rules.c: names without control characters, instants compared
 * as points in time. */
#include <stdio.h>
#include <string.h>
#include "../../../shared/tests/check.h"
#include "systems.h"

#define NS 1000000000LL

int main(void)
{
    /* names: printable text, any script; no C0, DEL or C1 control */
    CHECK(log_digest_name_ok("access.log"));
    CHECK(log_digest_name_ok("access.log.2026-11-30"));
    CHECK(log_digest_name_ok("journal système/é ü 整"));
    CHECK(log_digest_name_ok(" x "));
    CHECK(!log_digest_name_ok(""));
    CHECK(!log_digest_name_ok("a\nb"));
    CHECK(!log_digest_name_ok("a\tb"));
    CHECK(!log_digest_name_ok("\x1b[31m"));
    CHECK(!log_digest_name_ok("a\x7f"));
    CHECK(!log_digest_name_ok("a\xc2\x85"));    /* U+0085 NEXT LINE */
    CHECK(!log_digest_name_ok("\xc2\x9f"));     /* U+009F */
    CHECK(log_digest_name_ok("\xc2\xa0x"));     /* U+00A0: printable */
    CHECK(log_digest_name_ok("\xc3\x85ngstr")); /* Å */

    /* instants */
    CHECK(log_digest_instant_ns("1970-01-01T00:00:00Z") == 0);
    CHECK(log_digest_instant_ns("1970-01-01T00:00:01Z") == NS);
    CHECK(log_digest_instant_ns("2026-11-30T00:00:00Z") == 1795996800LL * NS);
    CHECK(log_digest_instant_ns("1900-01-01T00:00:00Z") == -2208988800LL * NS);
    CHECK(log_digest_instant_ns("2000-02-29T12:00:00Z") == 951825600LL * NS);
    /* fractions of 1 to 9 digits */
    CHECK(log_digest_instant_ns("1970-01-01T00:00:00.5Z") == NS / 2);
    CHECK(log_digest_instant_ns("1970-01-01T00:00:00.000000001Z") == 1);
    CHECK(log_digest_instant_ns("1970-01-01T00:00:00.123456Z") == 123456000);
    /* offsets: the same instant written three ways */
    long long z = log_digest_instant_ns("2026-11-30T10:00:00Z");
    CHECK(log_digest_instant_ns("2026-11-30T11:30:00+01:30") == z);
    CHECK(log_digest_instant_ns("2026-11-30T05:00:00-05:00") == z);
    CHECK(log_digest_instant_ns("2026-11-30T10:00:00+00:00") == z);
    /* an earlier wall clock can be a later instant */
    CHECK(log_digest_instant_ns("2026-11-30T09:00:00-02:00") >
          log_digest_instant_ns("2026-11-30T10:00:00Z"));
    CHECK(log_digest_instant_ns("2026-11-30T10:00:00.1Z") >
          log_digest_instant_ns("2026-11-30T10:00:00Z"));
    return check_done();
}
