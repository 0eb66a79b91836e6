/* winbuf-xen.c — shared window buffers for the xen transport: the guest
 * allocates pages with xengntshr and grants them read-only to dom0; dom0
 * maps the grant references read-only with xengnttab.
 *
 * Owns: granting, mapping, unsharing and unmapping grant buffers, and the
 * importer's checks on the reference list.
 * Must never: grant pages writable to the peer, map an import writable, or
 * map more references than the buffer size needs (BH_MAX_GRANT_REFS at most).
 *
 * A guest cannot pull granted pages out from under dom0: while dom0 has them
 * mapped, the hypervisor keeps them and the guest's end-of-access fails, so
 * the mapping stays valid until dom0 unmaps it. Like the memfd, the guest can
 * still scribble on the pixels; dom0 only ever copies them out. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xengnttab.h>

#include "bulkhead/winbuf.h"
#include "winbuf-private.h"

/* Xen reserves domain ids from DOMID_FIRST_RESERVED (0x7ff0) up. */
#define BH_WINBUF_MAX_DOMAIN 0x7fef

struct bh_winbuf_xen {
    bool exported;
    uint32_t n_pages;
    xengntshr_handle *shr; /* export */
    xengnttab_handle *tab; /* import */
};

/* b takes over the mapping, the reference list and the handle. */
static void grant_adopt(struct bh_winbuf *b, void *map, size_t size, uint32_t *refs, struct bh_winbuf_xen *x)
{
    b->kind = BH_GUI_BUFFER_GRANT;
    b->map = map;
    b->size = size;
    b->n_refs = x->n_pages;
    b->refs = refs;
    b->priv = x;
}

static uint32_t pages_for(size_t size)
{
    return (uint32_t)((size + BH_PAGE_SIZE - 1) / BH_PAGE_SIZE);
}

/* Grant references name 4 KiB Xen pages; the gnt devices hand out kernel
 * pages. They only line up when the kernel page is 4 KiB too. */
static bool page_size_ok(void)
{
    return sysconf(_SC_PAGESIZE) == (long)BH_PAGE_SIZE;
}

int bh_winbuf_export_grant(struct bh_winbuf *b, int domain, size_t size)
{
    int rc = -1;
    struct bh_winbuf_xen *x = NULL;
    uint32_t *refs = NULL;
    void *map = NULL;
    uint32_t n;

    if (bh_winbuf_export_begin(b, size) < 0)
        return -1;
    if (domain < 0 || domain > BH_WINBUF_MAX_DOMAIN) {
        errno = EINVAL;
        goto out;
    }
    if (!page_size_ok()) {
        errno = ENOTSUP;
        goto out;
    }
    n = pages_for(size);
    x = calloc(1, sizeof *x);
    refs = calloc(n, sizeof *refs);
    if (!x || !refs)
        goto out;
    x->exported = true;
    x->n_pages = n;
    /* Needs the xen_gntalloc module, whose "limit" parameter (default 1024
     * pages) must allow the largest window: see docs/vchan.md. */
    x->shr = xengntshr_open(NULL, 0);
    if (!x->shr)
        goto out;
    map = xengntshr_share_pages(x->shr, (uint32_t)domain, (int)n, refs, 0);
    if (!map)
        goto out;
    grant_adopt(b, map, size, refs, x);
    refs = NULL;
    x = NULL;
    rc = 0;
out:
    if (rc < 0) {
        int saved = errno;
        if (x && x->shr)
            xengntshr_close(x->shr);
        free(x);
        free(refs);
        errno = saved;
    }
    return rc;
}

int bh_winbuf_import_grant(struct bh_winbuf *b, int domain, const uint32_t *refs, uint32_t n_refs,
                           size_t expected_size, const char **reason)
{
    int rc = -1;
    const char *why = NULL;
    struct bh_winbuf_xen *x = NULL;
    uint32_t *copy = NULL;
    void *map = NULL;

    if (!b) {
        why = "no buffer to fill";
        errno = EINVAL;
        goto out;
    }
    bh_winbuf_clear(b);
    if (domain < 0 || domain > BH_WINBUF_MAX_DOMAIN) {
        why = "not a domain id";
        errno = EINVAL;
        goto out;
    }
    why = bh_winbuf_size_problem(expected_size);
    if (why)
        goto out;
    /* Exactly the pages the size needs, so a guest can neither make dom0 map
     * more than the window nor leave part of the window unbacked. */
    if (n_refs != pages_for(expected_size) || n_refs > BH_MAX_GRANT_REFS || !refs) {
        why = "the number of grant references does not match the buffer size";
        errno = EINVAL;
        goto out;
    }
    if (!page_size_ok()) {
        why = "grant buffers need 4 KiB kernel pages";
        errno = ENOTSUP;
        goto out;
    }
    x = calloc(1, sizeof *x);
    copy = malloc((size_t)n_refs * sizeof *copy);
    if (!x || !copy) {
        why = "out of memory";
        goto out;
    }
    /* xengnttab takes a non-const list; our copy is also what b->refs keeps. */
    memcpy(copy, refs, (size_t)n_refs * sizeof *copy);
    x->n_pages = n_refs;
    x->tab = xengnttab_open(NULL, 0);
    if (!x->tab) {
        why = "cannot open the grant table device (is xen_gntdev loaded?)";
        goto out;
    }
    if (xengnttab_set_max_grants(x->tab, n_refs) < 0) {
        why = "cannot raise the grant mapping limit to the buffer's page count";
        goto out;
    }
    map = xengnttab_map_domain_grant_refs(x->tab, n_refs, (uint32_t)domain, copy, PROT_READ);
    if (!map) {
        why = "cannot map the guest's grant references read-only";
        goto out;
    }
    grant_adopt(b, map, expected_size, copy, x);
    copy = NULL;
    x = NULL;
    rc = 0;
out:
    if (rc < 0) {
        int saved = errno;
        if (x && x->tab)
            xengnttab_close(x->tab);
        free(x);
        free(copy);
        errno = saved;
        if (reason)
            *reason = why;
    }
    return rc;
}

void bh_winbuf_grant_release(struct bh_winbuf *b)
{
    struct bh_winbuf_xen *x = b->priv;

    if (x) {
        if (x->exported) {
            if (b->map)
                xengntshr_unshare(x->shr, b->map, x->n_pages);
            xengntshr_close(x->shr);
        } else {
            if (b->map)
                xengnttab_unmap(x->tab, b->map, x->n_pages);
            xengnttab_close(x->tab);
        }
        free(x);
    }
    free(b->refs);
}
