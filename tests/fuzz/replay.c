/* SPDX-License-Identifier: MIT */
/*
 * Replays a corpus through a libFuzzer target without libFuzzer, so the
 * checked-in inputs run under any compiler (and under ASan/UBSan with
 * -DMEMGOV_SANITIZE=ON). Arguments are files or directories of files.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
        static uint8_t buf[1 << 20];
        FILE *f = fopen(path, "re");
        size_t n;

        if (!f) {
                fprintf(stderr, "%s: %m\n", path);
                return -errno;
        }
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        return 0;
}

int main(int argc, char **argv)
{
        unsigned ran = 0, failed = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
                        if (replay_file(argv[i]) < 0)
                                failed++;
                        else
                                ran++;
                        continue;
                }
                DIR *d = opendir(argv[i]);
                if (!d) {
                        fprintf(stderr, "%s: %m\n", argv[i]);
                        failed++;
                        continue;
                }
                for (struct dirent *de; (de = readdir(d));) {
                        char path[4096];
                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
                        if (replay_file(path) < 0)
                                failed++;
                        else
                                ran++;
                }
                closedir(d);
        }
        /* An input that breaks an invariant aborts before this line. */
        printf("fuzz-replay: %u passed, %u failed\n", ran, failed);
        return failed == 0 && ran > 0 ? 0 : 1;
}
