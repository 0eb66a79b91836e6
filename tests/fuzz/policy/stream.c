/* stream.c — see stream.h. */
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/policy.h"

#define FUZZ_PATH "fuzz.policy"

static void fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "policy fuzz invariant broken: %s: %s\n", what, detail ? detail : "");
    abort();
}

static BhPolicySystem *fuzz_system(void)
{
    BhPolicySystem *sys = bh_policy_system_new();
    const char *tags[] = {"t", "trusted", NULL};

    bh_policy_system_add(sys, "work", "AppVM", tags, FALSE, NULL, "dvm");
    bh_policy_system_add(sys, "personal", "AppVM", NULL, FALSE, NULL, NULL);
    bh_policy_system_add(sys, "dvm", "AppVM", NULL, TRUE, NULL, "dvm");
    bh_policy_system_add(sys, "disp1", "DispVM", NULL, FALSE, "dvm", "dvm");
    bh_policy_system_add(sys, "tpl", "TemplateVM", NULL, FALSE, NULL, NULL);
    return sys;
}

static void fuzz_check_errors(const BhPolicy *p, const uint8_t *data, size_t size)
{
    unsigned lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    for (unsigned i = 0; i < bh_policy_n_errors(p) && bh_policy_error(p, i); i++) {
        const char *e = bh_policy_error(p, i);
        unsigned line, column;
        int used = 0;
        if (strncmp(e, FUZZ_PATH ":", strlen(FUZZ_PATH ":")) != 0 ||
            sscanf(e + strlen(FUZZ_PATH ":"), "%u:%u: %n", &line, &column, &used) != 2 || used == 0)
            fuzz_fail("error not in file:line:column form", e);
        if (line > lines || (line == 0) != (column == 0) || column > BH_POLICY_LINE_MAX + 1)
            fuzz_fail("error position outside the file", e);
        for (const char *c = e; *c; c++)
            if ((unsigned char)*c < 0x20)
                fuzz_fail("control character in an error", e);
    }
}

static void fuzz_check_decision(const BhPolicy *p, const BhPolicyRequest *req, const BhPolicyDecision *d)
{
    if (bh_policy_n_errors(p) > 0 && d->verdict != BH_POLICY_DENY)
        fuzz_fail("a broken policy did not deny", req->service);
    switch (d->verdict) {
    case BH_POLICY_DENY:
        if (d->reason == NULL || d->target || d->targets)
            fuzz_fail("deny without reason, or with a target", req->service);
        break;
    case BH_POLICY_ALLOW:
        if (d->target == NULL || d->file == NULL || d->line == 0)
            fuzz_fail("allow without target or rule", req->service);
        if (strcmp(req->source, "dom0") != 0 && strcmp(d->target, "dom0") == 0)
            fuzz_fail("allow names dom0 by name", d->target);
        break;
    case BH_POLICY_ASK:
        if (d->targets == NULL || d->targets[0] == NULL || d->file == NULL)
            fuzz_fail("ask without targets or rule", req->service);
        for (char **t = d->targets; *t; t++)
            if (strcmp(*t, req->source) == 0 || strcmp(*t, "dom0") == 0 || strcmp(*t, "@adminvm") == 0)
                fuzz_fail("ask offers the source or dom0", *t);
        if (d->default_target && !g_strv_contains((const char *const *)d->targets, d->default_target))
            fuzz_fail("default_target not in the list", d->default_target);
        break;
    }
}

void bh_fuzz_policy_run(const uint8_t *data, size_t size, struct bh_fuzz_policy_result *res)
{
    static const char *const services[] = {"svc.A", "bulkhead.ClipboardPaste", "qubes.Filecopy", "x"};
    static const char *const sources[] = {"work", "personal", "disp1", "dom0", "tpl"};
    static const char *const targets[] = {"personal", "work",     "@default", "@dispvm", "@dispvm:dvm",
                                          "dom0",     "@adminvm", "disp1",    "tpl",     "ghost"};
    BhPolicySystem *sys = fuzz_system();
    BhPolicy *p = bh_policy_new();

    bh_policy_add_file(p, FUZZ_PATH, FUZZ_PATH, (const char *)data, size);
    res->rules = bh_policy_n_rules(p);
    res->errors = bh_policy_n_errors(p);
    fuzz_check_errors(p, data, size);
    for (size_t s = 0; s < sizeof services / sizeof *services; s++)
        for (size_t f = 0; f < sizeof sources / sizeof *sources; f++)
            for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
                BhPolicyRequest req = {services[s], s == 0 ? "arg" : "", sources[f], targets[t]};
                BhPolicyDecision d;
                bh_policy_evaluate(p, sys, &req, &d);
                fuzz_check_decision(p, &req, &d);
                bh_policy_decision_clear(&d);
            }
    bh_policy_unref(p);
    bh_policy_system_free(sys);
}
