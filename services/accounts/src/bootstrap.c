/*
 * First start: the IT office department comes with the first migration; the
 * `admin` user is created here, with the password from ITGOV_ADMIN_PASSWORD.
 * Later starts leave an existing admin (and its password) alone.
 */
#include <string.h>
#include "accounts.h"
#include "itgov/crypto.h"
#include "itgov/log.h"

int accounts_bootstrap(PGconn *conn)
{
    char random_pw[33];
    random_hex(random_pw, 16);
    if (!password_hash(random_pw, accounts_dummy_hash)) return -1;

    PGresult *res = PQexec(conn, "SELECT 1 FROM users WHERE lower(username) = 'admin'");
    bool exists = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
    bool failed = PQresultStatus(res) != PGRES_TUPLES_OK;
    PQclear(res);
    if (failed) {
        log_error("cannot read users: %s", PQerrorMessage(conn));
        return -1;
    }
    if (exists) return 0;
    const char *pw = accounts_cfg.admin_password;
    if (strlen(pw) < 10) {
        log_error("ITGOV_ADMIN_PASSWORD must be set (at least 10 characters) on first start");
        return -1;
    }
    char hash[PASSWORD_HASH_MAX];
    if (!password_hash(pw, hash)) return -1;
    const char *params[] = {hash};
    res = PQexecParams(conn,
                       "WITH u AS (INSERT INTO users (username, display_name, employee_id, "
                       "department_id, roles, password_hash) "
                       "SELECT 'admin', 'Administrator', 'admin', id, '{admin}', $1 "
                       "FROM departments WHERE code = 'ITO' RETURNING *) "
                       "SELECT emit('itgov.account.user.created', 'users/' || u.id, NULL, "
                       "user_doc(u)) FROM u",
                       1, NULL, params, NULL, NULL, 0);
    failed = PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1;
    PQclear(res);
    sodium_memzero(hash, sizeof hash);
    if (failed) {
        log_error("cannot create the admin user: %s", PQerrorMessage(conn));
        return -1;
    }
    log_info("created the admin user");
    return 0;
}
