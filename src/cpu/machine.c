/* The CPU by name, as a profile reports it and a run folder records it. */
#include "cpu/machine.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* "AMD EPYC (2 cores online)" from /proc/cpuinfo where there is one. */
void jn_cpu_model_name(char *out, unsigned long cap)
{
    char line[512], name[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(name, sizeof name, "%s", strchr(line, ':') + 2);
            name[strcspn(name, "\n")] = 0;
            break;
        }
    if (f)
        fclose(f);
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(out, cap, "%s (%ld core%s online)", name, cores, cores == 1 ? "" : "s");
}
