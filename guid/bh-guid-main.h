/* bh-guid-main.h — one guid from its command line to its exit status.
 * Owns: nothing beyond the call. Must never: be called twice in a process
 * (GTK is initialised once, on this process's display connection). */
#ifndef BH_GUID_MAIN_H
#define BH_GUID_MAIN_H

/* The whole of a guid: returns its exit status (docs/guid.md). */
int bh_guid_main(int argc, char **argv);

#endif /* BH_GUID_MAIN_H */
