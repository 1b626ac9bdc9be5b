/* anchor_why (why.h) */
#include <stdarg.h>
#include <stdio.h>
#include "why.h"

bool anchor_why(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return false;
}
