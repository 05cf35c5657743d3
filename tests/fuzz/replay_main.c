/* tests/fuzz/replay_main.c: runs a libFuzzer target over every file of a
 * corpus directory without libFuzzer, so `make test` replays the seeds and
 * every crash that was ever found, under the sanitizers. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int main(int argc, char **argv);

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    int n = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
            FILE *f = fopen(path, "rb");
            if (!f)
                continue;
            fseek(f, 0, SEEK_END);
            long len = ftell(f);
            fseek(f, 0, SEEK_SET);
            uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
            size_t got = fread(buf, 1, len > 0 ? (size_t)len : 0, f);
            fclose(f);
            LLVMFuzzerTestOneInput(buf, got);
            free(buf);
            n++;
        }
        closedir(d);
    }
    /* The empty input always runs, so a target with no corpus yet still executes. */
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    printf("%d passed, 0 failed\n", n + 1);
    return 0;
}
