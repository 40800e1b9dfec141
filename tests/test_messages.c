/* The lines the library prints (jn_print: notes, warnings, progress) are shortened as error
 * lines are (jn_fail): one too long keeps its start and its end with " ... " between. A note
 * past 8192 bytes lost its end, where what went wrong with a long name is said. */
#include "check.h"
#include "jacnoise/error.h"

#include <string.h>

/* What jn_print wrote of "NAME: END\n", NAME n bytes of `fill`, into out (cap bytes). */
static size_t printed(char fill, size_t n, char *out, size_t cap)
{
    char *name = malloc(n + 1);
    REQUIRE(name, "out of memory");
    memset(name, fill, n);
    name[n] = 0;
    FILE *f = tmpfile();
    REQUIRE(f, "tmpfile failed");
    jn_print(f, "jacnoise: note: %s: the end\n", name);
    rewind(f);
    const size_t len = fread(out, 1, cap - 1, f);
    out[len] = 0;
    fclose(f);
    free(name);
    return len;
}

int main(void)
{
    static char out[1 << 16];
    /* Plain text, then bytes written four times longer escaped (\x01), past 8192 either way. */
    const char fills[] = {'r', '\x01'};
    for (size_t k = 0; k < sizeof fills; k++) {
        const size_t len = printed(fills[k], 20000, out, sizeof out);
        const char *unit = fills[k] == 'r' ? "r" : "\\x01";
        CHECK(len < 8192 + 1, "%zu bytes printed", len);
        CHECK(len && out[len - 1] == '\n' && strchr(out, '\n') == out + len - 1, "not one line: %.80s", out);
        CHECK(!strncmp(out, "jacnoise: note: ", 16) && !strncmp(out + 16, unit, strlen(unit)), "start lost: %.80s", out);
        CHECK(len > 10 && !strcmp(out + len - 10, ": the end\n") && !strncmp(out + len - 10 - strlen(unit), unit,
                                                                              strlen(unit)),
              "end lost: ...%s", len > 80 ? out + len - 80 : out);
        const char *gap = strstr(out, " ... ");
        CHECK(gap && gap > out + 4000 && gap < out + 4200, "no ' ... ' in the middle: %s",
              gap ? "found elsewhere" : "none");
        /* Cut between escapes, never inside one. */
        if (gap && fills[k] == '\x01')
            CHECK(!strncmp(gap - 4, "\\x01", 4) && !strncmp(gap + 5, "\\x01", 4), "an escape cut: %.20s", gap - 10);
    }
    /* A short line is printed whole, its newline kept. */
    const size_t len = printed('r', 10, out, sizeof out);
    CHECK(len == 36 && !strcmp(out, "jacnoise: note: rrrrrrrrrr: the end\n"), "printed %s", out);
    return check_exit();
}
