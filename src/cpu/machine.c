/* The CPU by name, as a profile reports it and a run folder records it. */
#include "cpu/machine.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void jn_cpu_model_from(const char *cpuinfo, char *out, unsigned long cap)
{
    char line[512];
    snprintf(out, cap, "unknown CPU");
    FILE *f = fopen(cpuinfo, "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            /* The value past ':' and its blanks: a line cut at the ':' (the file's end, or
             * fgets's limit) has none, and "+ 2" then read past its end. */
            const char *value = strchr(line, ':') + 1;
            value += strspn(value, " \t");
            const size_t len = strcspn(value, "\n");
            if (len)
                snprintf(out, cap, "%.*s", (int)len, value);
            break;
        }
    if (f)
        fclose(f);
}

/* "AMD EPYC (2 cores online)" from /proc/cpuinfo where there is one. */
void jn_cpu_model_name(char *out, unsigned long cap)
{
    char name[256];
    jn_cpu_model_from("/proc/cpuinfo", name, sizeof name);
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(out, cap, "%s (%ld core%s online)", name, cores, cores == 1 ? "" : "s");
}
