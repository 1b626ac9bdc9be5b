#include <stdlib.h>
#include "check.h"
#include "itgov/config.h"

int main(void)
{
    long v;
    CHECK(config_parse_long("8080", 1, 65535, &v) && v == 8080);
    CHECK(!config_parse_long("0", 1, 65535, &v));
    CHECK(!config_parse_long("65536", 1, 65535, &v));
    CHECK(!config_parse_long("80x", 1, 65535, &v));
    CHECK(!config_parse_long("", 1, 65535, &v));

    const char *s = NULL;
    long port = 0, pool = 0;
    setenv("ITGOV_TEST_PORT", "9000", 1);
    unsetenv("ITGOV_TEST_POOL");
    setenv("ITGOV_TEST_NAME", "x", 1);
    struct config_row rows[] = {
        {"ITGOV_TEST_PORT", CFG_INT, &port, "1", 1, 65535},
        {"ITGOV_TEST_POOL", CFG_INT, &pool, "4", 1, 64},
        {"ITGOV_TEST_NAME", CFG_STR, &s, NULL, 0, 0},
    };
    CHECK(config_load(rows, 3));
    CHECK(port == 9000 && pool == 4);
    CHECK_STR(s, "x");

    setenv("ITGOV_TEST_PORT", "nope", 1);
    unsetenv("ITGOV_TEST_NAME");
    CHECK(!config_load(rows, 3)); /* reports both, fails */
    return check_done();
}
