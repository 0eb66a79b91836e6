/* main.c — bulkhead-guid: one process per running qube with a GUI
 * (bh-guid-main.c), or with `--launcher FD` the launcher bulkheadd forks
 * each guid from (bh-guid-launcher.c; docs/guid.md "The launcher").
 * Owns: choosing between the two. Must never: do anything else. */
#include <stdlib.h>
#include <string.h>

#include "bh-guid-launcher.h"
#include "bh-guid-main.h"

int main(int argc, char **argv)
{
    /* `bulkhead-guid --launcher FD [ROOM]`: FD is bulkheadd's end of the
     * socket; ROOM, ignored, is command-line space the children write their
     * own arguments over. */
    if (argc >= 3 && strcmp(argv[1], "--launcher") == 0) {
        char *end = NULL;
        long fd = strtol(argv[2], &end, 10);
        if (end == argv[2] || *end != '\0' || fd < 3 || fd > 1023)
            return 1;
        char *last = argv[argc - 1];
        return bh_guid_launcher_run((int)fd, argv[0], (size_t)(last + strlen(last) + 1 - argv[0]));
    }
    return bh_guid_main(argc, argv);
}
