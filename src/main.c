/* main.c: the kura command line (serve, version, help). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv);

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "version") == 0) {
        printf("kura %s\n", KURA_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: kura serve|version\n");
    return 2;
}
