/* Credential-like member names; see credentials.h. */
#include "credentials.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const s_words[] = {"password", "passwd", "secret", "credential",
                                      "token",    "key",    NULL};

bool credential_name(const char *name)
{
    if (!name) return false;
    size_t n = strlen(name);
    for (const char *const *w = s_words; *w; w++) {
        size_t wl = strlen(*w);
        for (size_t i = 0; i + wl <= n; i++) {
            size_t k = 0;
            while (k < wl && tolower((unsigned char)name[i + k]) == (*w)[k])
                k++;
            if (k == wl) return true;
        }
    }
    return false;
}

static int s_walk(const cJSON *v, const char *path, void (*each)(void *, const char *), void *arg)
{
    int found = 0, i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        char sub[256];
        if (cJSON_IsObject(v)) {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "",
                     it->string ? it->string : "");
            if (credential_name(it->string)) {
                if (each) each(arg, sub);
                found++;
            }
        } else {
            snprintf(sub, sizeof sub, "%s[%d]", path, i);
        }
        i++;
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) found += s_walk(it, sub, each, arg);
    }
    return found;
}

int credential_members(const cJSON *v, void (*each)(void *arg, const char *path), void *arg)
{
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v)) return 0;
    return s_walk(v, "", each, arg);
}
