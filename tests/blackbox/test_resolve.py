"""Host names are resolved on the loop, asynchronously (issue 8, finding 7):
a second accounts instance given PostgreSQL and Redis by name (localhost,
as compose gives them by service name) connects to both, serves, and stops
cleanly. The stack's own services use addresses, so this is the one place
the evdns path of the database pool and of Redis runs."""
import os

from client import admin_token, expect, http
from instance import instance

ORDER = 93


def test_postgres_and_redis_given_by_name_are_resolved_and_used():
    url = os.environ["ITGOV_ACCOUNTS_DATABASE_URL"]
    assert "host=127.0.0.1" in url, f"unexpected database URL form: {url.split('password')[0]}"
    changes = {"ITGOV_REDIS_HOST": "localhost",
               "ITGOV_ACCOUNTS_DATABASE_URL": url.replace("host=127.0.0.1", "host=localhost")}
    with instance("accounts", "the instance given names", "accounts-by-name.log", changes) as i:
        expect(http("GET", i.root + "/api/v1/users?limit=1", token=admin_token()), 200)
    text = i.log()
    assert "redis: connected to localhost" in text, "no Redis connection by name in the log"
    assert "postgresql: connected" in text, "no PostgreSQL connection in the log"
    assert "cannot resolve" not in text, "a name was not resolved"
