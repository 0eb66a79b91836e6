/* main.c — the `bulkhead` executable (and every qvm-* link to it). */
#include <locale.h>

#include "bh-cli.h"

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    return bh_cli_main(argc, argv);
}
