/* What only the command line (src/cli) asks of the option table in config.c: how an option
 * is written there, its help, and which option an error refuses. Internal to src/core and
 * src/cli. */
#ifndef JACNOISE_CORE_OPTIONS_H
#define JACNOISE_CORE_OPTIONS_H

#include <stdio.h>

#include "jacnoise/config.h"

/* True if the option takes no value on the command line (`--resume`). */
int jn_config_is_flag(const char *key);

/* True if the option's value is a comma-separated list (--hidden W1,W2,...). */
int jn_config_takes_list(const char *key);

/* "file", "folder" or "test set" if the option's value names one (--checkpoint FILE, --out DIR,
 * --test idx:IMAGES,LABELS), else NULL. */
const char *jn_config_path_noun(const char *key);

/* The option the last error refuses ("--KEY ..." or "--KEY: ...", KEY an option of some
 * command), as the table spells it; NULL where the error names none. */
const char *jn_config_refused_option(void);

/* Where the last error refuses an option whose value cfg read from its --config file,
 * prefixes it "--config: FILE: line N", as a value the file's parsing refuses is named: the
 * command line did not give it. Returns -1. */
int jn_config_blame_file(const jn_config *cfg);

/* Typed as jn_config_set, which a command's own setter calls for what it does not refuse. */
typedef int jn_config_setter(jn_config *cfg, unsigned command, const char *key, const char *value);

/* jn_config_load_file, each option set by `set`: the --config file's lines get the command
 * line's refusals (a sweep's 'set it in the spec'), with the file and line. */
int jn_config_load_file_with(jn_config *cfg, unsigned command, const char *path, jn_config_setter *set);

/* Prints the options of `command`, with meta-variables, defaults and help. */
void jn_config_print_help(FILE *f, unsigned command);

#endif
