#include <stdlib.h>
#include "check.h"
#include "itgov/crypto.h"

int main(void)
{
    CHECK(crypto_init());
    char h[65];
    sha256_hex("abc", 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    char a[65], b[65];
    random_hex(a, 32);
    random_hex(b, 32);
    CHECK(strlen(a) == 64 && strcmp(a, b) != 0);

    char hash[PASSWORD_HASH_MAX];
    CHECK(password_hash("correct horse battery", hash));
    CHECK(strncmp(hash, "$argon2id$", 10) == 0);
    CHECK(strstr(hash, "correct") == NULL);
    CHECK(password_verify(hash, "correct horse battery"));
    CHECK(!password_verify(hash, "correct horse batterz"));
    CHECK(!password_verify("not a hash", "x"));
    return check_done();
}
