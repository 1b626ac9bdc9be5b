#include <stdlib.h>
#include "check.h"
#include "itgov/session.h"

int main(void)
{
    CHECK(role_bit("admin") == ROLE_ADMIN);
    CHECK(role_bit("auditor") == ROLE_AUDITOR);
    CHECK(role_bit("it_office") == ROLE_IT_OFFICE);
    CHECK(role_bit("root") == 0);

    struct principal *p = principal_from_json(
        "12", "{\"id\":7,\"department_id\":3,\"roles\":[\"applicant\",\"expert\",\"bogus\"],"
              "\"disabled\":false}");
    CHECK(p != NULL);
    if (p) {
        CHECK(p->id == 7 && p->department_id == 3);
        CHECK(p->roles == (ROLE_APPLICANT | ROLE_EXPERT));
        CHECK_STR(p->sid, "12");
    }
    principal_destroy(&p);
    CHECK(p == NULL);
    CHECK(principal_from_json("1", "{\"id\":7,\"roles\":[\"admin\"],\"disabled\":true}") == NULL);
    CHECK(principal_from_json("1", "not json") == NULL);
    CHECK(principal_from_json("1", "{\"roles\":[]}") == NULL);
    return check_done();
}
