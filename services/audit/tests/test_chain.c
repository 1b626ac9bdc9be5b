/* chain.c: entry hashes (checked against an independent computation) and
 * the shape checks of incoming events. */
#include <stdio.h>
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/chain.h"
#include "itgov/crypto.h"

int main(void)
{
    crypto_init();
    char h1[65], h2[65], again[65];
    const char *e1 = "{\"id\":\"x\",\"seq\":1}", *e2 = "{\"id\":\"y\",\"seq\":2}";
    /* python3: sha256(bytes(32) + e1), then sha256(h1 bytes + e2) */
    CHECK(chain_hash(CHAIN_GENESIS, e1, strlen(e1), h1));
    CHECK_STR(h1, "7c463ad646a6b303c40a053e8c9ae4803cf702f79bbb24e3beed8c5ea11d1df2");
    CHECK(chain_hash(h1, e2, strlen(e2), h2));
    CHECK_STR(h2, "bf63025c7c7c9ed84797e0eeddfc222759ac61b8ec73981897b476eeec34cf89");
    /* any change of the entry or of its predecessor changes the hash */
    CHECK(chain_hash(h1, e1, strlen(e1), again) && strcmp(again, h2) != 0);
    CHECK(chain_hash(CHAIN_GENESIS, e2, strlen(e2), again) && strcmp(again, h2) != 0);
    /* uppercase hex is read; malformed predecessors are refused */
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(h1[i] >= 'a' && h1[i] <= 'f' ? h1[i] - 32 : h1[i]);
    CHECK(chain_hash(upper, e2, strlen(e2), again) && strcmp(again, h2) == 0);
    CHECK(!chain_hash("abc", e1, strlen(e1), again));
    CHECK(!chain_hash(NULL, e1, strlen(e1), again));
    char bad[65];
    memcpy(bad, h1, 65);
    bad[10] = 'g';
    CHECK(!chain_hash(bad, e1, strlen(e1), again));

    CHECK(chain_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
    CHECK(chain_is_uuid("0F8FAD5B-D9CB-469F-A165-70867728950E"));
    CHECK(!chain_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950"));
    CHECK(!chain_is_uuid("0f8fad5bd9cb-469f-a165-70867728950e0"));
    CHECK(!chain_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950x"));
    CHECK(!chain_is_uuid(NULL));

    CHECK(chain_is_rfc3339("2026-01-02T03:04:05Z"));
    CHECK(chain_is_rfc3339("2026-01-02T03:04:05.123456Z"));
    CHECK(chain_is_rfc3339("2026-01-02T03:04:05+08:00"));
    CHECK(chain_is_rfc3339("2026-01-02T03:04:05.1-01:30"));
    CHECK(!chain_is_rfc3339("2026-01-02 03:04:05Z"));
    CHECK(!chain_is_rfc3339("2026-13-02T03:04:05Z"));
    CHECK(!chain_is_rfc3339("2026-01-02T03:04:05"));
    CHECK(!chain_is_rfc3339("2026-01-02T03:04:05.Z"));
    CHECK(!chain_is_rfc3339("2026-01-02T03:04:05Zjunk"));
    CHECK(!chain_is_rfc3339("yesterday"));
    CHECK(!chain_is_rfc3339(NULL));
    return check_done();
}
