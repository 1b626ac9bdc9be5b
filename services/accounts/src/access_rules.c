/* The pure rules of access reviews; see access_rules.h. */
#include "access_rules.h"
#include <stdlib.h>
#include <string.h>

const char *const access_finding_kinds[] = {
    "dormant",        "admin_outside_it_office",        "it_office_role_outside_it_office",
    "shared_account", "system_account_holder_disabled", NULL};

long long dormant_threshold_s(long days, long seconds)
{
    return seconds > 0 ? (long long)seconds : (long long)days * 86400;
}

bool setting_bool(const char *text, bool *out)
{
    if (!text || !*text || strcmp(text, "false") == 0) {
        *out = false;
        return true;
    }
    if (strcmp(text, "true") == 0) {
        *out = true;
        return true;
    }
    return false;
}

struct session_addr {
    long long uid;
    const char *ip;
};

static int s_by_uid_ip(const void *a, const void *b)
{
    const struct session_addr *x = a, *y = b;
    if (x->uid != y->uid) return (x->uid > y->uid) - (x->uid < y->uid);
    return strcmp(x->ip, y->ip);
}

cJSON *shared_account_sessions(const cJSON *sessions)
{
    cJSON *out = cJSON_CreateArray();
    int n = cJSON_GetArraySize(sessions);
    if (n <= 0) return out;
    struct session_addr *all = calloc((size_t)n, sizeof *all);
    if (!all) abort();
    int k = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, sessions)
    {
        const cJSON *uid = cJSON_GetObjectItemCaseSensitive(s, "user_id");
        const cJSON *ip = cJSON_GetObjectItemCaseSensitive(s, "ip");
        if (!cJSON_IsNumber(uid) || uid->valuedouble < 1 || !cJSON_IsString(ip) ||
            !ip->valuestring[0])
            continue;
        all[k].uid = (long long)uid->valuedouble;
        all[k].ip = ip->valuestring;
        k++;
    }
    qsort(all, (size_t)k, sizeof *all, s_by_uid_ip);
    for (int i = 0; i < k;) {
        int j = i;
        cJSON *addrs = cJSON_CreateArray();
        for (; j < k && all[j].uid == all[i].uid; j++)
            if (j == i || strcmp(all[j].ip, all[j - 1].ip) != 0)
                cJSON_AddItemToArray(addrs, cJSON_CreateString(all[j].ip));
        if (cJSON_GetArraySize(addrs) > 1) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "user_id", (double)all[i].uid);
            cJSON_AddItemToObject(o, "addresses", addrs);
            cJSON_AddItemToArray(out, o);
        } else {
            cJSON_Delete(addrs);
        }
        i = j;
    }
    free(all);
    return out;
}
