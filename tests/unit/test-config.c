/* SPDX-License-Identifier: MIT */
/* Policy files: the parser's messages, staging, precedence, profiles and matching (policy/config*.c). */
#include <errno.h>
#include <stdlib.h>

#include "../../policy/config.h"
#include "../../policy/macro.h"
#include "check.h"

/* Parses text as file "f.ini" into a fresh set; returns the problems, one per line, "" when none. */
static int load(const char *text, size_t size, char *out, size_t out_size, ConfigSet **ret_set)
{
        ConfigProblems p = {};
        ConfigSet *s = NULL;
        size_t n = 0;
        int r;

        if (config_set_new(&s) < 0)
                abort();
        r = config_set_load_buffer(s, "f.ini", text, size, &p);
        out[0] = '\0';
        for (size_t i = 0; i < p.n; i++) {
                char buf[512];
                n += snprintf(out + n, n < out_size ? out_size - n : 0, "%s%s", i ? "\n" : "",
                              config_problem_format(&p.items[i], buf, sizeof(buf)));
        }
        config_problems_clear(&p);
        if (ret_set)
                *ret_set = s;
        else
                config_set_free(s);
        return r;
}

static void test_messages(void)
{
        static const struct {
                const char *text;
                const char *problems;
        } cases[] = {
                {"[defaults]\nmemory-max = 1G\n", ""},
                {"[defaults]\nmemroy-max = 1G\n", "f.ini:2: memroy-max: unknown key"},
                {"memory-max = 1G\n",
                 "f.ini:1: memory-max: outside a section: put it under [defaults] or [profile \"NAME\"]"},
                {"[defaults]\nmemory-max = lots\n",
                 "f.ini:2: memory-max: 'lots': expected bytes, a number with K, M, G or T (1024-based, e.g. 512M, 1.5G), or 'max'"},
                {"[defaults]\nmemory-high = 120%\n",
                 "f.ini:2: memory-high: '120%': a percentage must be above 0% and at most 100%"},
                {"[defaults]\ngrace = soon\n",
                 "f.ini:2: grace: 'soon': expected a number with a unit: ms, s or m (e.g. 500ms, 10s, 2m)"},
                {"[defaults]\non-cannot-fit = explode\n",
                 "f.ini:2: on-cannot-fit: 'explode': expected let-oom or kill"},
                {"[defaults]\nruntime = cobol\n",
                 "f.ini:2: runtime: 'cobol': expected auto, go, jvm, node, dotnet, glibc, jemalloc or none"},
                {"[defaults]\nagent-socket = maybe\n", "f.ini:2: agent-socket: 'maybe': expected yes or no"},
                {"[defaults]\ngogc = lots\n",
                 "f.ini:2: gogc: 'lots': expected a percentage such as 100, or 'off'"},
                {"[defaults]\noom-score-adj = 1001\n",
                 "f.ini:2: oom-score-adj: '1001': expected a whole number from -1000 to 1000"},
                {"[defaults]\noom-score-adj = -5x\n",
                 "f.ini:2: oom-score-adj: '-5x': expected a whole number from -1000 to 1000"},
                {"[defaults]\nobserve = perhaps\n", "f.ini:2: observe: 'perhaps': expected yes or no"},
                {"[defaults]\njvm-reserve = max\n",
                 "f.ini:2: jvm-reserve: 'max': a reserve must be a size, not 'max'"},
                {"[defaults]\nheadroom = 150%\n",
                 "f.ini:2: headroom: '150%': a percentage must be at most 100%"},
                {"[defaults]\nheadroom = 5K\n",
                 "f.ini:2: headroom: '5K': expected a percentage such as 5% or 12.5%"},
                {"[defaults]\nwindow = 10 parsecs\n",
                 "f.ini:2: window: '10 parsecs': expected a number with a unit: ms, s or m (e.g. 500ms, 10s, 2m)"},
                {"[defaults]\nmemory-high-adjust = perhaps\n",
                 "f.ini:2: memory-high-adjust: 'perhaps': expected yes or no"},
                {"[defaults]\nX-Owner = web team\n",
                 "f.ini:2: X-Owner: warning: ignored (X- keys are left for local use)"},
                {"[default]\nmemory-max = 1G\n",
                 "f.ini:1: not a known section: expected [defaults] or [profile \"NAME\"] (NAME of letters, digits, '-', '_' and '.')"},
                {"[profile api]\n",
                 "f.ini:1: not a known section: expected [defaults] or [profile \"NAME\"] (NAME of letters, digits, '-', '_' and '.')"},
                {"[defaults\n", "f.ini:1: section header without a closing ']'"},
                {"[defaults]\njust words\n", "f.ini:2: not a [section], a 'key = value' line or a comment"},
                {"[defaults]\n= 1G\n", "f.ini:2: a value without a key"},
                {"[defaults]\nmatch-command = api\n",
                 "f.ini:2: match-command: match rules belong in a [profile \"NAME\"] section"},
                {"[profile \"a\"]\nmatch-env = ROLE\n",
                 "f.ini:2: match-env: expected NAME=PATTERN, such as ROLE=api"},
                {"[profile \"a\"]\nmatch-exe =\n", "f.ini:2: match-exe: expected one or more patterns"},
                /* All problems, not just the first, each on its own line. */
                {"[defaults]\nmemory-max = 1G\nbogus = 1\ngrace = x\n[nope]\nheadroom = 5%\n",
                 "f.ini:3: bogus: unknown key\n"
                 "f.ini:4: grace: 'x': expected a number with a unit: ms, s or m (e.g. 500ms, 10s, 2m)\n"
                 "f.ini:5: not a known section: expected [defaults] or [profile \"NAME\"] (NAME of letters, digits, '-', '_' and '.')"},
                {"\xEF\xBB\xBF[defaults]\ngrace = 1s\n", ""}, /* a byte order mark */
                /* Comments, blank lines, CRLF, inline comments and indented keys are fine. */
                {"; fleet\n# policy\n\n[defaults]\r\n    memory-max = 1G ; comment\r\n\tgrace = 5s\n", ""},
        };
        char out[2048];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = load(cases[i].text, strlen(cases[i].text), out, sizeof(out), NULL);
                bool want_error = cases[i].problems[0] && !strstr(cases[i].problems, "warning");
                CHECK(strcmp(out, cases[i].problems) == 0, "case %zu: got\n%s\nwant\n%s", i, out,
                      cases[i].problems);
                CHECK((r == -EINVAL) == want_error, "case %zu: r=%d", i, r);
        }
}

static const char *value_of(const ConfigEffective *e, const char *key, ConfigOrigin *ret_origin)
{
        for (size_t i = 0; i < e->n_values; i++)
                if (strcmp(config_key(i)->name, key) == 0) {
                        if (ret_origin)
                                *ret_origin = e->values[i].origin;
                        return e->values[i].value;
                }
        return NULL;
}

static void test_dangerous_lines(void)
{
        char text[1024], out[1024];
        ConfigSet *s;
        int r;

        /* inih hands over the first 197 characters of a long line as a value: never trust it. */
        snprintf(text, sizeof(text), "[defaults]\nname = %0300d\nmemory-max = 1G\n", 7);
        r = load(text, strlen(text), out, sizeof(out), NULL);
        CHECK(r == -EINVAL && strcmp(out, "f.ini:2: the line is longer than 197 characters") == 0, "r=%d %s",
              r, out);

        /* A NUL byte is an error, not the end of the file. */
        memcpy(text, "[defaults]\nmemory-max = 1G\0\ngrace = 1s\n", 39);
        r = load(text, 39, out, sizeof(out), NULL);
        CHECK(r == -EINVAL && strcmp(out, "f.ini:2: the line contains a NUL byte") == 0, "r=%d %s", r, out);

        /* Names longer than inih's buffers would be truncated into something else. */
        snprintf(text, sizeof(text), "[profile \"%060d\"]\n", 1);
        r = load(text, strlen(text), out, sizeof(out), NULL);
        CHECK(r == -EINVAL && strcmp(out, "f.ini:1: section name is too long") == 0, "r=%d %s", r, out);
        snprintf(text, sizeof(text), "[defaults]\nmemory-max%060d = 1\n", 1);
        r = load(text, strlen(text), out, sizeof(out), NULL);
        CHECK(r == -EINVAL && strcmp(out, "f.ini:2: the key is too long to be a known one") == 0, "r=%d %s",
              r, out);

        /* An indented line is a key of its own, not a continuation of the previous value. */
        r = load("[defaults]\nname = a\n  grace = 2s\n", 33, out, sizeof(out), &s);
        CHECK(r == 0 && !out[0], "r=%d %s", r, out);
        {
                char *argv[] = {(char *)"x", NULL}, *env[] = {NULL};
                ConfigProblems p = {};
                ConfigEffective e;
                CHECK(config_resolve(s, &(ConfigSelector){.argv = argv, .envp = env}, &e, &p) == 0,
                      "resolve");
                CHECK(strcmp(value_of(&e, "name", NULL), "a") == 0, "name: %s", value_of(&e, "name", NULL));
                CHECK(strcmp(value_of(&e, "grace", NULL), "2s") == 0, "grace: %s",
                      value_of(&e, "grace", NULL));
                config_effective_clear(&e);
        }
        config_set_free(s);
}

static const char fleet[] = "[defaults]\n"
                            "memory-max = 1G\n"
                            "headroom = 10%\n"
                            "grace = 5s\n"
                            "[profile \"api\"]\n"
                            "match-command = api-* gunicorn\n"
                            "memory-max = 2G\n"
                            "[profile \"jvm\"]\n"
                            "match-exe = */java\n"
                            "runtime = jvm\n"
                            "[profile \"batch\"]\n"
                            "match-env = ROLE=batch*\n"
                            "on-cannot-fit = kill\n"
                            "headroom =\n";

static void test_precedence(void)
{
        char out[1024];
        char *argv_api[] = {(char *)"/srv/api-server", NULL}, *argv_java[] = {(char *)"java", NULL},
             *argv_other[] = {(char *)"other", NULL};
        char *env_none[] = {NULL}, *env_batch[] = {(char *)"ROLE=batch-nightly", NULL},
             *env_grace[] = {(char *)"MEMGOV_GRACE=7s", (char *)"MEMGOV_HEADROOM=3%", NULL},
             *env_bad[] = {(char *)"MEMGOV_MEMORY_MAX=huge", NULL},
             *cmd_grace[] = {(char *)"grace=9s", NULL};
        ConfigProblems p = {};
        ConfigEffective e;
        ConfigOrigin o;
        ConfigSet *s;
        PolicyConfig law;
        int r;

        r = load(fleet, strlen(fleet), out, sizeof(out), &s);
        CHECK(r == 0 && !out[0], "fleet: r=%d %s", r, out);

        /* No profile matches: [defaults] over the built-ins. */
        r = config_resolve(s, &(ConfigSelector){.argv = argv_other, .envp = env_none}, &e, &p);
        CHECK(r == 0 && !e.profile, "r=%d", r);
        CHECK(strcmp(value_of(&e, "memory-max", &o), "1G") == 0 && o == CONFIG_ORIGIN_DEFAULTS,
              "memory-max");
        CHECK(strcmp(value_of(&e, "window", &o), "10s") == 0 && o == CONFIG_ORIGIN_BUILTIN, "window");
        CHECK(config_effective_law(&e, &law) == 0 && law.headroom_permyriad == 1000, "law headroom %u",
              law.headroom_permyriad);
        config_effective_clear(&e);

        /* match-command on the basename; the profile inherits what it does not set. */
        r = config_resolve(s, &(ConfigSelector){.argv = argv_api, .envp = env_none}, &e, &p);
        CHECK(r == 0 && e.profile && strcmp(e.profile, "api") == 0, "api: r=%d", r);
        CHECK(strstr(e.profile_why, "match-command api-* (f.ini:6)") != NULL, "why: %s", e.profile_why);
        CHECK(strcmp(value_of(&e, "memory-max", &o), "2G") == 0 && o == CONFIG_ORIGIN_PROFILE,
              "api memory-max");
        CHECK(strcmp(value_of(&e, "grace", &o), "5s") == 0 && o == CONFIG_ORIGIN_DEFAULTS,
              "api grace inherited");
        config_effective_clear(&e);

        /* match-exe on the resolved path. */
        r = config_resolve(
                s,
                &(ConfigSelector){.argv = argv_java, .exe_path = "/usr/lib/jvm/bin/java", .envp = env_none},
                &e, &p);
        CHECK(r == 0 && e.profile && strcmp(e.profile, "jvm") == 0, "jvm");
        config_effective_clear(&e);

        /* match-env; an empty value resets to the built-in, even over [defaults]. */
        r = config_resolve(s, &(ConfigSelector){.argv = argv_other, .envp = env_batch}, &e, &p);
        CHECK(r == 0 && e.profile && strcmp(e.profile, "batch") == 0, "batch");
        CHECK(strcmp(value_of(&e, "headroom", NULL), "5%") == 0, "reset headroom: %s",
              value_of(&e, "headroom", NULL));
        CHECK(config_effective_law(&e, &law) == 0 && law.give_up == POLICY_GIVE_UP_KILL, "give_up");
        config_effective_clear(&e);

        /* By name, over the match rules; an unknown name is an error. */
        r = config_resolve(s, &(ConfigSelector){.profile = "batch", .argv = argv_api, .envp = env_none}, &e,
                           &p);
        CHECK(r == 0 && strcmp(e.profile, "batch") == 0, "by name");
        config_effective_clear(&e);
        r = config_resolve(s, &(ConfigSelector){.profile = "web", .argv = argv_api, .envp = env_none}, &e,
                           &p);
        CHECK(r == -EINVAL && p.n == 1 &&
                      strcmp(p.items[0].reason, "no [profile \"web\"] in the policy files") == 0,
              "unknown profile: r=%d", r);
        config_problems_clear(&p);

        /* MEMGOV_<KEY> over the profile; the command line over the environment. */
        r = config_resolve(s, &(ConfigSelector){.argv = argv_api, .envp = env_grace}, &e, &p);
        CHECK(strcmp(value_of(&e, "grace", &o), "7s") == 0 && o == CONFIG_ORIGIN_ENV, "env grace");
        CHECK(strcmp(value_of(&e, "headroom", &o), "3%") == 0 && o == CONFIG_ORIGIN_ENV, "env headroom");
        config_effective_clear(&e);
        r = config_resolve(s,
                           &(ConfigSelector){.argv = argv_api, .envp = env_grace, .cmdline_keys = cmd_grace},
                           &e, &p);
        CHECK(strcmp(value_of(&e, "grace", &o), "9s") == 0 && o == CONFIG_ORIGIN_CMDLINE, "cmdline grace");
        config_effective_clear(&e);

        /* A bad environment value is an error naming the variable. */
        r = config_resolve(s, &(ConfigSelector){.argv = argv_api, .envp = env_bad}, &e, &p);
        CHECK(r == -EINVAL && p.n == 1 && strcmp(p.items[0].key, "MEMGOV_MEMORY_MAX") == 0, "env bad: r=%d",
              r);
        config_problems_clear(&p);
        config_set_free(s);
}

static void test_dropins_and_staging(void)
{
        static const char dropin[] = "[profile \"api\"]\nmemory-max = 3G\n",
                          broken[] = "[defaults]\nmemory-max = 4G\nheadroom = lots\n";
        char *argv_api[] = {(char *)"api-x", NULL}, *env_none[] = {NULL};
        ConfigProblems p = {};
        ConfigEffective e;
        ConfigSet *s;
        char out[512];
        int r;

        r = load(fleet, strlen(fleet), out, sizeof(out), &s);
        CHECK(r == 0, "fleet");
        r = config_set_load_buffer(s, "conf.d/50-api.ini", dropin, strlen(dropin), &p);
        CHECK(r == 0, "drop-in");
        /* A file with one bad line changes nothing, not even its good lines. */
        r = config_set_load_buffer(s, "conf.d/60-broken.ini", broken, strlen(broken), &p);
        CHECK(r == -EINVAL && p.n_errors == 1, "broken: r=%d", r);
        config_problems_clear(&p);

        r = config_resolve(s, &(ConfigSelector){.argv = argv_api, .envp = env_none}, &e, &p);
        CHECK(r == 0, "resolve");
        for (size_t i = 0; i < e.n_values; i++)
                if (strcmp(config_key(i)->name, "memory-max") == 0)
                        CHECK(strcmp(e.values[i].value, "3G") == 0 &&
                                      strcmp(e.values[i].file, "conf.d/50-api.ini") == 0 &&
                                      e.values[i].line == 2,
                              "drop-in wins: %s %s:%u", e.values[i].value, e.values[i].file,
                              e.values[i].line);
        config_effective_clear(&e);
        /* The broken file's memory-max = 4G in [defaults] must not be there. */
        r = config_resolve(s, &(ConfigSelector){.argv = (char *[]){(char *)"x", NULL}, .envp = env_none}, &e,
                           &p);
        CHECK(strcmp(value_of(&e, "memory-max", NULL), "1G") == 0, "staged: %s",
              value_of(&e, "memory-max", NULL));
        config_effective_clear(&e);
        CHECK(config_set_profile_count(s) == 3 && strcmp(config_set_profile_name(s, 2), "batch") == 0,
              "profiles");
        config_set_free(s);
}

static void test_cross_checks(void)
{
        static const char text[] = "[defaults]\nmemory-max = 1G\nmemory-high = 2G\n"
                                   "[profile \"a\"]\nmemory-max = 4G\n"
                                   "[profile \"b\"]\nmemory-high = 3G\n"
                                   "[profile \"c\"]\nmemory-high = 90%\n";
        ConfigProblems p = {};
        ConfigSet *s;
        char out[512], buf[512];

        CHECK(load(text, strlen(text), out, sizeof(out), &s) == 0, "%s", out);
        CHECK(config_set_check(s, &p) == 0, "check");
        CHECK(p.n == 2 && p.n_errors == 0, "n=%zu errors=%zu", p.n, p.n_errors);
        if (p.n == 2) {
                CHECK(strcmp(config_problem_format(&p.items[0], buf, sizeof(buf)),
                             "f.ini:3: memory-high: warning: '2G' is above memory-max '1G' (f.ini:2)") == 0,
                      "%s", buf);
                CHECK(strcmp(config_problem_format(&p.items[1], buf, sizeof(buf)),
                             "f.ini:7: memory-high: warning: '3G' is above memory-max '1G' (f.ini:2) in profile \"b\"") ==
                              0,
                      "%s", buf);
        }
        config_problems_clear(&p);
        config_set_free(s);
}

/* Every law parameter has a key, and its built-in text reads back to the built-in value. */
static void test_schema(void)
{
        PolicyConfig def, c;
        const char *field;
        size_t n_law = 0;

        policy_config_default(&def);
        for (size_t i = 0; (field = policy_config_field_name(i)); i++) {
                bool found = strcmp(field, "give_up") == 0; /* on-cannot-fit */
                for (size_t j = 0; j < config_key_count(); j++)
                        found = found ||
                                (config_key(j)->law_field && strcmp(config_key(j)->law_field, field) == 0);
                CHECK(found, "law field %s has no key", field);
        }
        policy_config_default(&c);
        for (size_t j = 0; j < config_key_count(); j++) {
                const ConfigKey *k = config_key(j);
                const char *reason = NULL;
                CHECK(config_key_validate(k, k->builtin, &reason) == 0, "%s: built-in '%s' invalid: %s",
                      k->name, k->builtin, reason);
                if (k->type == CONFIG_LAW) {
                        n_law++;
                        CHECK(policy_config_set(&c, k->law_field, k->builtin) == 0, "%s", k->name);
                }
        }
        /* Field by field (memcmp would compare padding): each set from its text formats back the same. */
        for (size_t i = 0; (field = policy_config_field_name(i)); i++) {
                char a[32], b[32];
                policy_config_format(&c, field, a, sizeof(a));
                policy_config_format(&def, field, b, sizeof(b));
                CHECK(strcmp(a, b) == 0, "%s: %s read back as %s", field, b, a);
        }
        CHECK(n_law >= 25, "only %zu law keys", n_law);
}

/* Every key is documented: in docs/policy.md as `key`, in the man page with its dashes escaped. */
static void test_documented(const char *md_path, const char *man_path)
{
        static char md[1 << 17], man[1 << 17];
        FILE *f;
        size_t n;

        f = fopen(md_path, "re");
        CHECK(f, "%s: %m", md_path);
        if (!f)
                return;
        n = fread(md, 1, sizeof(md) - 1, f);
        md[n] = '\0';
        fclose(f);
        f = fopen(man_path, "re");
        CHECK(f, "%s: %m", man_path);
        if (!f)
                return;
        n = fread(man, 1, sizeof(man) - 1, f);
        man[n] = '\0';
        fclose(f);
        for (size_t i = 0; i < config_key_count(); i++) {
                char want[96], escaped[96];
                size_t k = 0;
                snprintf(want, sizeof(want), "`%s`", config_key(i)->name);
                CHECK(strstr(md, want), "%s is not documented in %s", config_key(i)->name, md_path);
                for (const char *c = config_key(i)->name; *c && k + 3 < sizeof(escaped); c++) {
                        if (*c == '-')
                                escaped[k++] = '\\';
                        escaped[k++] = *c;
                }
                escaped[k] = '\0';
                CHECK(strstr(man, escaped), "%s is not in %s", escaped, man_path);
        }
}

int main(int argc, char *argv[])
{
        if (argc == 3) {
                test_documented(argv[1], argv[2]);
                return check_finish("test-config (docs)");
        }
        test_messages();
        test_dangerous_lines();
        test_precedence();
        test_dropins_and_staging();
        test_cross_checks();
        test_schema();
        return check_finish("test-config");
}
