/*
 * The dossier of a project (issue 10, article 25): its whole file in one
 * document, what an auditor or the archive asks for. project_dossier() of
 * 0016_dossier.sql assembles it in one statement from the service's own
 * records and the approval cases the consumer keeps (consumer.c), so every
 * part is of the same moment. Whoever may see the project reads it; the
 * others get 404. A strong ETag of its bytes (If-None-Match: 304).
 */
#include "itgov/db.h"
#include "itgov/service.h"
#include "projects.h"

void dossier_get(struct req *r)
{
    project_read(r,
                 "SELECT project_dossier(p.id)::text FROM projects p "
                 "WHERE p.id = $1 AND " VISIBLE("2", "3", "4", "5", "6"),
                 reply_row_tagged);
}
