/* agent-foot.c — bulkhead-gui-agent with Debian's foot terminal running sh,
 * driven by a test-only dom0.
 *
 * Proves: keys typed as KEY messages (xkb keycodes, us layout dom0
 * announced) reach the shell inside foot, which runs a command that writes
 * a file; the window title follows what the shell sets; the clipboard goes
 * both ways (dom0's CLIPBOARD_DATA is pasted by foot's Ctrl+Shift+V into a
 * file; text foot puts on the clipboard comes back for CLIPBOARD_REQ); the
 * agent stays near 0 % CPU while foot is idle; foot exiting destroys its
 * window. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bh-test-agent.h"

#define KEY_D 32
#define KEY_V 47

static bool foot_shown(struct bh_tdom0 *d, void *ctx)
{
    return bh_tdom0_find_shown(d, "foot") != NULL;
}

static bool file_has(const char *path, const char *want)
{
    g_autofree char *text = NULL;
    return g_file_get_contents(path, &text, NULL, NULL) && strcmp(text, want) == 0;
}

struct file_wait {
    const char *path, *want;
};

static bool file_ready(struct bh_tdom0 *d, void *ctx)
{
    struct file_wait *f = ctx;
    return file_has(f->path, f->want);
}

struct title_wait {
    struct bh_tdom0_win *w;
    const char *want;
};

static bool title_is(struct bh_tdom0 *d, void *ctx)
{
    struct title_wait *t = ctx;
    return strcmp(t->w->title, t->want) == 0;
}

struct clip_wait {
    unsigned n;
};

static bool clip_answered(struct bh_tdom0 *d, void *ctx)
{
    struct clip_wait *c = ctx;
    return d->n_clipboard > c->n;
}

static void wait_file(struct bh_tagent *t, const char *path, const char *want, const char *what)
{
    struct file_wait f = {path, want};
    if (!bh_tagent_wait(t, file_ready, &f)) {
        g_autofree char *got = NULL;
        g_file_get_contents(path, &got, NULL, NULL);
        bh_tagent_dump(t->agent_log);
        bh_tagent_dump(t->child_logs[0]);
        g_error("%s: %s holds '%s', want '%s'", what, path, got ? got : "(nothing)", want);
    }
}

static void test_foot(void)
{
    struct bh_tagent t;
    bh_tagent_start(&t, true);
    const char *argv[] = {"foot", "--override=cursor.blink=no", "sh", NULL};
    const char *env[] = {"SHELL=/bin/sh", "PS1=$ ", "ENV=", "LANG=C.UTF-8", NULL};
    pid_t foot = bh_tagent_client(&t, argv, env);

    if (!bh_tagent_wait(&t, foot_shown, NULL)) {
        bh_tagent_dump(t.agent_log);
        bh_tagent_dump(t.child_logs[0]);
        g_error("no foot window: %s", t.dom0->error);
    }
    struct bh_tdom0_win *w = bh_tdom0_find_shown(t.dom0, "foot");
    uint32_t id = w->id;
    g_assert_cmpstr(w->app_id, ==, "foot");
    bh_tdom0_focus(t.dom0, id, true);

    /* 1. A command typed key by key writes a file. */
    g_autofree char *typed = g_build_filename(t.dir, "typed.txt", NULL);
    g_autofree char *cmd = g_strdup_printf("echo hi > %s\n", typed);
    g_assert_true(bh_tdom0_type(t.dom0, id, cmd));
    wait_file(&t, typed, "hi\n", "typed command");

    /* 2. The title follows the shell (OSC 2 from printf). */
    g_assert_true(bh_tdom0_type(t.dom0, id, "cd /usr/share && printf '\\033]2;%s\\007' \"$PWD\"\n"));
    struct title_wait tw = {w, "/usr/share"};
    if (!bh_tagent_wait(&t, title_is, &tw))
        g_error("title is '%s', want '/usr/share'", w->title);
    g_assert_true(bh_tdom0_type(t.dom0, id, "cd /\n"));

    /* 3. Nothing copied yet: CLIPBOARD_REQ is answered, empty. */
    struct clip_wait c0 = {t.dom0->n_clipboard};
    struct bh_gui_clipboard_req req = {1};
    g_assert_true(bh_tdom0_send(t.dom0, BH_GUI_CLIPBOARD_REQ, 0, &req, sizeof req));
    g_assert_true(bh_tagent_wait(&t, clip_answered, &c0));
    g_assert_cmpuint(t.dom0->clipboard_len, ==, 0);
    g_assert_cmpuint(t.dom0->clipboard_request, ==, 1); /* the answer names its request */

    /* 4. dom0 -> foot: CLIPBOARD_DATA, then foot's paste into cat. */
    const char *clip = "pasted from dom0: \xc3\xa4\xc3\xb6\xe2\x9c\x93";
    uint8_t body[sizeof(struct bh_gui_clipboard_data) + 64] = {0}; /* request 0, flags 0: a paste */
    memcpy(body + sizeof(struct bh_gui_clipboard_data), clip, strlen(clip));
    g_assert_true(bh_tdom0_send(t.dom0, BH_GUI_CLIPBOARD_DATA, 0, body,
                                sizeof(struct bh_gui_clipboard_data) + strlen(clip)));
    g_autofree char *pasted = g_build_filename(t.dir, "pasted.txt", NULL);
    g_autofree char *cat = g_strdup_printf("cat > %s\n", pasted);
    g_assert_true(bh_tdom0_type(t.dom0, id, cat));
    g_usleep(300 * 1000); /* let cat start reading: the paste then lands in its input */
    bh_tdom0_chord(t.dom0, id, true, true, KEY_V);
    g_assert_true(bh_tdom0_type(t.dom0, id, "\n"));
    bh_tdom0_chord(t.dom0, id, true, false, KEY_D);
    g_autofree char *want = g_strdup_printf("%s\n", clip);
    wait_file(&t, pasted, want, "paste");

    /* 5. foot -> dom0: foot sets the clipboard (OSC 52), dom0 asks for it. */
    g_assert_true(
        bh_tdom0_type(t.dom0, id, "printf '\\033]52;c;%s\\007' $(printf copied-in-foot | base64)\n"));
    bool got = false;
    for (int i = 0; i < 50 && !got; i++) {
        struct clip_wait c = {t.dom0->n_clipboard};
        req.request++;
        g_assert_true(bh_tdom0_send(t.dom0, BH_GUI_CLIPBOARD_REQ, 0, &req, sizeof req));
        g_assert_true(bh_tagent_wait(&t, clip_answered, &c));
        got = strcmp(t.dom0->clipboard, "copied-in-foot") == 0 && t.dom0->clipboard_request == req.request;
        if (!got)
            bh_tdom0_pump(t.dom0, 200);
    }
    if (!got)
        g_error("CLIPBOARD_REQ answered '%s', want 'copied-in-foot'", t.dom0->clipboard);

    /* 6. Idle: foot shows a prompt and nothing moves. */
    for (int i = 0; i < 10; i++)
        bh_tdom0_pump(t.dom0, 100);
    long hz = sysconf(_SC_CLK_TCK);
    long a0 = bh_tproc_cpu_ticks(t.agent), f0 = bh_tproc_cpu_ticks(foot);
    for (int i = 0; i < 20; i++)
        bh_tdom0_pump(t.dom0, 100);
    long a1 = bh_tproc_cpu_ticks(t.agent), f1 = bh_tproc_cpu_ticks(foot);
    g_test_message("idle for 2 s: agent %ld ticks, foot %ld ticks (%ld ticks/s)", a1 - a0, f1 - f0, hz);
    /* Generous: 5 % of one core, for a loaded 2-core test machine. */
    g_assert_cmpint(a1 - a0, <=, hz / 10);

    /* 7. The shell exits, foot exits, the window goes. */
    g_assert_true(bh_tdom0_type(t.dom0, id, "exit\n"));
    if (!bh_tagent_wait(&t, bh_tdom0_no_windows, NULL))
        g_error("foot's window was not destroyed");
    int st = bh_tproc_wait(foot, bh_tagent_timeout_ms(10000));
    g_assert_true(WIFEXITED(st));
    t.children[0] = -1;

    g_assert_false(t.dom0->violation);
    st = bh_tagent_stop(&t);
    g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gui-agent/foot/type-title-clipboard-idle", test_foot);
    return g_test_run();
}
