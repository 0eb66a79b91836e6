/* props.c — the property table: every qube property and global setting with
 * its type, classes, default, inheritance, validator and help text, and the
 * parser that turns untrusted text into a canonical value.
 *
 * Owns: what each property means and which values are well-formed.
 * Must never: look at other qubes (references are checked by the model) or
 * keep state. Order in the tables is the order qvm-prefs lists them, and
 * the model indexes values by position: keep model.h's counts in step. */
#include "bulkhead/apps.h"
#include "bulkhead/qubes.h"
#include "bulkhead/text.h"
#include "model.h"

#include <string.h>

#define DOMU   BH_CLASSES_DOMU
#define ALL    BH_CLASSES_ALL
#define CB(c)  BH_CLASS_BIT(BH_CLASS_##c)
#define ROOTED (CB(TEMPLATE_VM) | CB(STANDALONE_VM))

#define STRING_VALUE_MAX 4096

static gboolean validate_kernel(const char *value, GError **error)
{
    gsize i;

    if (value[0] == '\0')
        return TRUE;
    if (strlen(value) > 64 || value[0] == '.')
        goto bad;
    for (i = 0; value[i] != '\0'; i++) {
        if (!g_ascii_isalnum(value[i]) && strchr("._+-", value[i]) == NULL)
            goto bad;
    }
    return TRUE;
bad:
    g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                "kernel must be empty (the backend's default) or a kernel version such as 6.1.0-13, "
                "made of letters, digits and '._+-', at most 64 bytes");
    return FALSE;
}

static gboolean validate_user(const char *value, GError **error)
{
    if (bh_text_user_name_ok(value, strlen(value)))
        return TRUE;
    g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                "default_user must be a user name: a lower-case letter or '_' first, then lower-case "
                "letters, digits, '_' or '-', at most 32 bytes (for example: user)");
    return FALSE;
}

static gboolean validate_root_path(const char *value, GError **error)
{
    g_auto(GStrv) parts = NULL;
    guint i;

    if (value[0] == '\0')
        return TRUE;
    if (value[0] != '/')
        goto bad;
    parts = g_strsplit(value, "/", -1);
    for (i = 0; parts[i] != NULL; i++) {
        if (strcmp(parts[i], "..") == 0 || strcmp(parts[i], ".") == 0)
            goto bad;
    }
    return TRUE;
bad:
    g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                "root_path must be empty (the backend keeps the root itself) or an absolute directory "
                "path without '.' or '..' components, for example /srv/roots/fedora-40");
    return FALSE;
}

/* "default" (its template's choice, else every app but variants), "all",
 * or the ids of the qube's apps to show in the menu, separated by single
 * spaces (each as bulkhead/apps.h accepts it). */
static gboolean validate_menu_items(const char *value, GError **error)
{
    g_auto(GStrv) ids = NULL;

    if (strcmp(value, "default") == 0 || strcmp(value, "all") == 0 || value[0] == '\0')
        return TRUE;
    ids = g_strsplit(value, " ", -1);
    for (guint i = 0; ids[i] != NULL; i++) {
        if (!bh_apps_id_ok(ids[i], strlen(ids[i]))) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                        "menu_items must be 'default', 'all' or app ids separated by single spaces "
                        "(desktop file ids such as org.gnome.Calculator.desktop; see ListApps)");
            return FALSE;
        }
    }
    return TRUE;
}

static const char *const virt_modes[] = {"pvh", "hvm", "pv", NULL};

/* clang-format off */
static const BhPropDef props[BH_PROPS_N] = {
    [BH_P_NAME] = {"name", BH_PROP_STRING, ALL, BH_PROPF_RENAME, NULL, 0, 0, NULL, NULL,
        "none: every qube has one",
        "Name of the qube: a letter first, then letters, digits, '_', '.' or '-', at most 31 bytes. "
        "Setting it renames the qube (halt it first); dom0 cannot be renamed."},
    [BH_P_CLASS] = {"class", BH_PROP_STRING, ALL, BH_PROPF_READ_ONLY, NULL, 0, 0, NULL, NULL,
        "fixed at creation",
        "AdminVM (dom0), TemplateVM, AppVM, DispVM or StandaloneVM. To change it, create a new qube."},
    [BH_P_QID] = {"qid", BH_PROP_INT, ALL, BH_PROPF_READ_ONLY, NULL, 0, BH_QID_MAX, NULL, NULL,
        "allocated at creation",
        "Stable number of the qube (dom0 is 0); the sandbox backend uses it as the vchan domain id."},
    [BH_P_UUID] = {"uuid", BH_PROP_STRING, ALL, BH_PROPF_READ_ONLY, NULL, 0, 0, NULL, NULL,
        "allocated at creation",
        "Random UUID of the qube, fixed for its lifetime."},
    [BH_P_LABEL] = {"label", BH_PROP_LABEL, ALL, BH_PROPF_DISP_INHERIT, NULL, 0, 0, NULL, NULL,
        "DispVM: its template's label; others: chosen at creation, no default",
        "Colour of the qube's window borders and menu entries: red, orange, yellow, green, gray, "
        "blue, purple or black. Choose by trust level."},
    [BH_P_TEMPLATE] = {"template", BH_PROP_QUBE, CB(APP_VM) | CB(DISP_VM), 0, NULL, 0, 0, NULL, NULL,
        "chosen at creation (global default_template / default_dispvm), no default",
        "AppVM: the TemplateVM whose root filesystem it runs on. DispVM: the disposable template "
        "(a qube with template_for_dispvms) whose private data it starts from."},
    [BH_P_NETVM] = {"netvm", BH_PROP_QUBE, DOMU, BH_PROPF_ALLOW_NONE | BH_PROPF_DISP_INHERIT, NULL, 0, 0,
        NULL, NULL,
        "TemplateVM: none; DispVM: its template's netvm; others: the global default_netvm",
        "Qube that gives this one its network (it must have provides_network), or none for no "
        "network at all. Loops are refused."},
    [BH_P_PROVIDES_NETWORK] = {"provides_network", BH_PROP_BOOL, DOMU, 0, "False", 0, 0, NULL, NULL,
        "False",
        "Whether other qubes may use this one as their netvm. Cannot be turned off while qubes "
        "use it."},
    [BH_P_MEMORY] = {"memory", BH_PROP_INT, DOMU, BH_PROPF_INHERIT, "400", 32, 1048576, NULL, NULL,
        "the template's value, else 400",
        "Initial memory in MiB."},
    [BH_P_MAXMEM] = {"maxmem", BH_PROP_INT, DOMU, BH_PROPF_INHERIT, "4000", 0, 1048576, NULL, NULL,
        "the template's value, else 4000",
        "Most memory in MiB the qube may be given; 0 turns memory balancing off."},
    [BH_P_VCPUS] = {"vcpus", BH_PROP_INT, DOMU, BH_PROPF_INHERIT, "2", 1, 512, NULL, NULL,
        "the template's value, else 2",
        "Number of virtual CPUs."},
    [BH_P_KERNEL] = {"kernel", BH_PROP_STRING, DOMU, BH_PROPF_INHERIT, "", 0, 0, NULL, validate_kernel,
        "the template's value, else empty",
        "Kernel version to boot (xen backend); empty: the backend's default. The sandbox backend "
        "shares the host kernel and ignores it."},
    [BH_P_VIRT_MODE] = {"virt_mode", BH_PROP_ENUM, DOMU, 0, "pvh", 0, 0, virt_modes, NULL,
        "pvh",
        "Xen virtualisation mode: pvh, hvm (needed for PCI devices) or pv. Ignored by the sandbox "
        "backend."},
    [BH_P_AUTOSTART] = {"autostart", BH_PROP_BOOL, DOMU, 0, "False", 0, 0, NULL, NULL,
        "False",
        "Start the qube when bulkheadd starts."},
    [BH_P_DEFAULT_DISPVM] = {"default_dispvm", BH_PROP_QUBE, ALL,
        BH_PROPF_ALLOW_NONE | BH_PROPF_DISP_INHERIT, NULL, 0, 0, NULL, NULL,
        "DispVM: its template's; others: the global default_dispvm",
        "Disposable template used when this qube opens something in a disposable (it must have "
        "template_for_dispvms), or none."},
    [BH_P_TEMPLATE_FOR_DISPVMS] = {"template_for_dispvms", BH_PROP_BOOL, CB(APP_VM) | CB(STANDALONE_VM),
        0, "False", 0, 0, NULL, NULL,
        "False",
        "Whether this qube is a disposable template: disposables start from a copy of its private "
        "data. Cannot be turned off while disposables or default_dispvm settings use it."},
    [BH_P_INCLUDE_IN_BACKUPS] = {"include_in_backups", BH_PROP_BOOL, DOMU, 0, "True", 0, 0, NULL, NULL,
        "DispVM: False; others: True",
        "Whether backups include this qube by default."},
    [BH_P_ALLOW_FULLSCREEN] = {"allow_fullscreen", BH_PROP_BOOL, DOMU, BH_PROPF_DISP_INHERIT, "False",
        0, 0, NULL, NULL,
        "DispVM: its template's; others: False",
        "Whether the qube's windows may cover the whole screen. Off by default so that the "
        "trusted border stays visible."},
    [BH_P_QREXEC_TIMEOUT] = {"qrexec_timeout", BH_PROP_INT, DOMU, BH_PROPF_INHERIT, "60", 1, 3600, NULL,
        NULL,
        "the template's value, else 60",
        "Seconds to wait for the qube's agent to answer after start before giving up."},
    [BH_P_SHUTDOWN_TIMEOUT] = {"shutdown_timeout", BH_PROP_INT, DOMU, BH_PROPF_INHERIT, "60", 1, 3600,
        NULL, NULL,
        "the template's value, else 60",
        "Seconds a clean shutdown may take before the qube is killed."},
    [BH_P_DEFAULT_USER] = {"default_user", BH_PROP_STRING, DOMU, BH_PROPF_INHERIT, "user", 0, 0, NULL,
        validate_user,
        "the template's value, else user",
        "User that runs programs in the qube."},
    [BH_P_ROOT_PATH] = {"root_path", BH_PROP_STRING, ROOTED, 0, "", 0, 0, NULL, validate_root_path,
        "empty",
        "Sandbox backend: directory tree used as the root filesystem; empty: a tree the backend "
        "keeps for this qube. The first-run template uses the host's own root, /."},
    [BH_P_ROOT_READONLY] = {"root_readonly", BH_PROP_BOOL, ROOTED, 0, "False", 0, 0, NULL, NULL,
        "False",
        "Sandbox backend: mount the root read-only even in the template itself (the first-run "
        "template, which is the host's /, has it on)."},
    [BH_P_AUTO_CLEANUP] = {"auto_cleanup", BH_PROP_BOOL, CB(DISP_VM), 0, "True", 0, 0, NULL, NULL,
        "True",
        "Remove the disposable when it stops."},
    [BH_P_PRIVATE_SIZE] = {"private_size", BH_PROP_INT, DOMU, BH_PROPF_DISP_INHERIT, "2048", 256, 1048576,
        NULL, NULL,
        "DispVM: its template's; others: 2048",
        "Size in MiB of the qube's private volume (its home), enforced by the kernel: writes past it "
        "fail with ENOSPC inside the qube. A larger size applies at the next start; a smaller one "
        "than the volume has is ignored (a volume never shrinks: nothing stored is lost)."},
    [BH_P_ROOT_SIZE] = {"root_size", BH_PROP_INT, ROOTED, 0, "10240", 256, 1048576, NULL, NULL,
        "10240",
        "Sandbox backend: size in MiB of the qube's root volume (its /usr, /etc, /var and /opt "
        "layers), enforced by the kernel: writes past it fail with ENOSPC inside the qube. Applies at "
        "the next start (the first one after an upgrade moves the layers into the volume); a larger "
        "size grows it, a smaller one than the volume has is ignored (a volume never shrinks). A "
        "TemplateVM has a root volume only with BH_SANDBOX_TEMPLATE_ROOT=volume for now."},
    [BH_P_MENU_ITEMS] = {"menu_items", BH_PROP_STRING, DOMU, 0, "default", 0, 0, NULL, validate_menu_items,
        "default: its template's menu_items, else every app but variants (docs/apps.md)",
        "Which of the qube's apps the menu shows: default, all, or their ids separated by spaces (an "
        "empty value shows none). The ids are those of ListApps (docs/apps.md)."},
    [BH_P_NOTES] = {"notes", BH_PROP_STRING, DOMU, BH_PROPF_TEXT, "", 0, BH_NOTES_MAX, NULL, NULL,
        "empty",
        "The user's own notes about the qube, free text of several lines (UTF-8, at most 16384 "
        "bytes; tabs and newlines but no other control characters). Only dom0 writes them; qvm-notes "
        "shows and edits them."},
    [BH_P_IPV6] = {"ipv6", BH_PROP_BOOL, DOMU, 0, NULL, 0, 0, NULL, NULL,
        "its netvm's ipv6; False without a netvm",
        "Whether the qube has IPv6 (Qubes' ipv6 feature): set it on a netvm (sys-net) and its "
        "clients, and theirs, inherit it. A qube has an ip6 only while it and every netvm up its "
        "chain have it on; sys-net's uplink carries IPv6 then. Applies at the next start of the "
        "qube (a netvm: of the netvm and its clients' next link)."},
    [BH_P_IP] = {"ip", BH_PROP_STRING, DOMU, BH_PROPF_READ_ONLY, NULL, 0, 0, NULL, NULL,
        "from the qid while the qube has a netvm or provides network; else empty",
        "IPv4 address of the qube (netmask /32): 10.137.x.y from its qid, a disposable's 10.138.x.y."},
    [BH_P_IP6] = {"ip6", BH_PROP_STRING, DOMU, BH_PROPF_READ_ONLY, NULL, 0, 0, NULL, NULL,
        "from ip while the qube and its netvm chain have ipv6; else empty",
        "IPv6 address of the qube (/128): fd09:24ef:4179:: with ip in the low 32 bits "
        "(10.137.0.5 is fd09:24ef:4179::a89:5)."},
    [BH_P_GATEWAY] = {"gateway", BH_PROP_STRING, DOMU, BH_PROPF_READ_ONLY, NULL, 0, 0, NULL, NULL,
        "the netvm's ip; empty without a netvm",
        "Default gateway of the qube: its netvm's own address."},
    [BH_P_GATEWAY6] = {"gateway6", BH_PROP_STRING, DOMU, BH_PROPF_READ_ONLY, NULL, 0, 0, NULL, NULL,
        "the netvm's ip6; empty without IPv6",
        "IPv6 default gateway of the qube: its netvm's own ip6. DNS stays the IPv4 pair (dns)."},
    [BH_P_DNS] = {"dns", BH_PROP_STRING, DOMU, BH_PROPF_READ_ONLY, NULL, 0, 0, NULL, NULL,
        "10.139.1.1 10.139.1.2 while the qube has a netvm; else empty",
        "DNS servers of the qube: virtual addresses that each netvm redirects to the resolvers it "
        "uses itself (sys-net: the host's)."},
};

static const BhPropDef globals[BH_GLOBALS_N] = {
    [BH_G_DEFAULT_TEMPLATE] = {"default_template", BH_PROP_QUBE, 0, BH_PROPF_ALLOW_NONE, "", 0, 0, NULL,
        NULL, "none",
        "TemplateVM for new AppVMs created without one."},
    [BH_G_DEFAULT_NETVM] = {"default_netvm", BH_PROP_QUBE, 0, BH_PROPF_ALLOW_NONE, "", 0, 0, NULL, NULL,
        "none",
        "netvm of every qube whose netvm is the default (it must have provides_network)."},
    [BH_G_DEFAULT_DISPVM] = {"default_dispvm", BH_PROP_QUBE, 0, BH_PROPF_ALLOW_NONE, "", 0, 0, NULL,
        NULL, "none",
        "Disposable template of every qube whose default_dispvm is the default."},
    [BH_G_UPDATEVM] = {"updatevm", BH_PROP_QUBE, 0, BH_PROPF_ALLOW_NONE, "", 0, 0, NULL, NULL,
        "none",
        "Qube that downloads updates for dom0 and the templates (they have no network of "
        "their own)."},
    [BH_G_CLOCKVM] = {"clockvm", BH_PROP_QUBE, 0, BH_PROPF_ALLOW_NONE, "", 0, 0, NULL, NULL,
        "none",
        "Qube that sets the clock from the network."},
    [BH_G_CLIPBOARD_MAX_BYTES] = {"clipboard_max_bytes", BH_PROP_INT, 0, 0, "64000", 1, 256000, NULL,
        NULL, "64000",
        "Largest clipboard content in bytes that the global clipboard accepts from a qube."},
    [BH_G_NETWORK_UPLINK] = {"network_uplink", BH_PROP_BOOL, 0, 0, "True", 0, 0, NULL, NULL,
        "True",
        "Whether a netvm without a netvm of its own (sys-net) reaches the real network (sandbox: "
        "through slirp4netns, user-mode networking). Off: the qubes reach only each other's netvms. "
        "Applies at its next start."},
    [BH_G_NETWORK_UPLINK_HOST_LOOPBACK] = {"network_uplink_host_loopback", BH_PROP_BOOL, 0, 0, "False", 0, 0,
        NULL, NULL, "False",
        "Whether sys-net's uplink reaches the host's own 127.0.0.1 services (sandbox: at 10.0.2.2). "
        "Off, as in Qubes, where no qube reaches dom0's services; on for tests whose \"internet\" "
        "listens there. Applies at sys-net's next start."},
    [BH_G_PRELOAD_DISPVM] = {"preload_dispvm", BH_PROP_BOOL, 0, 0, "False", 0, 0, NULL, NULL,
        "False",
        "Keep one disposable of default_dispvm started ahead, so that the next disposable of it "
        "opens without a start. Each is used once; it is replaced when default_dispvm starts or "
        "changes."},
};
/* clang-format on */

const BhPropDef *bh_props(gsize *n_props)
{
    if (n_props != NULL)
        *n_props = G_N_ELEMENTS(props);
    return props;
}

const BhPropDef *bh_globals(gsize *n_globals)
{
    if (n_globals != NULL)
        *n_globals = G_N_ELEMENTS(globals);
    return globals;
}

static int table_index(const BhPropDef *table, gsize n, const char *name)
{
    gsize i;

    if (name == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        if (strcmp(table[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

int bh_prop_index(const char *name)
{
    return table_index(props, G_N_ELEMENTS(props), name);
}

int bh_global_index(const char *name)
{
    return table_index(globals, G_N_ELEMENTS(globals), name);
}

const BhPropDef *bh_prop_lookup(const char *name)
{
    int i = bh_prop_index(name);
    return i < 0 ? NULL : &props[i];
}

const BhPropDef *bh_global_lookup(const char *name)
{
    int i = bh_global_index(name);
    return i < 0 ? NULL : &globals[i];
}

gboolean bh_prop_applies(const BhPropDef *def, BhQubeClass klass)
{
    return (guint)klass < BH_CLASS_COUNT && (def->classes & BH_CLASS_BIT(klass)) != 0;
}

const char *bh_prop_type_name(BhPropType type)
{
    switch (type) {
    case BH_PROP_BOOL:
        return "bool";
    case BH_PROP_INT:
        return "int";
    case BH_PROP_STRING:
        return "string";
    case BH_PROP_QUBE:
        return "qube";
    case BH_PROP_LABEL:
        return "label";
    case BH_PROP_ENUM:
        return "enum";
    }
    return "unknown";
}

static gboolean parse_bool(const char *s, gboolean *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(s, yes[i]) == 0) {
            *out = TRUE;
            return TRUE;
        }
        if (g_ascii_strcasecmp(s, no[i]) == 0) {
            *out = FALSE;
            return TRUE;
        }
    }
    return FALSE;
}

/* Free text (BH_PROPF_TEXT) keeps its lines and tabs; any other control
 * character could rewrite a terminal that prints the value (qvm-prefs). */
static gboolean is_clean_text(const char *s, gsize max, gboolean text)
{
    const char *p;

    if (strlen(s) > max || !g_utf8_validate(s, -1, NULL))
        return FALSE;
    for (p = s; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c) && !(text && (c == '\n' || c == '\t')))
            return FALSE;
    }
    return TRUE;
}

char *bh_prop_normalize(const BhPropDef *def, const char *untrusted_value, GError **error)
{
    g_autofree char *shown = bh_qubes_quote(untrusted_value);

    if (untrusted_value == NULL) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE, "%s needs a value", def->name);
        return NULL;
    }
    switch (def->type) {
    case BH_PROP_BOOL: {
        gboolean b;
        if (!parse_bool(untrusted_value, &b)) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                        "%s is a yes/no setting; '%s' is neither: use True or False", def->name, shown);
            return NULL;
        }
        return g_strdup(b ? "True" : "False");
    }
    case BH_PROP_INT: {
        gint64 v;
        if (!g_ascii_string_to_signed(untrusted_value, 10, def->min, def->max, &v, NULL)) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                        "%s must be a whole number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                        "; '%s' is not",
                        def->name, def->min, def->max, shown);
            return NULL;
        }
        return g_strdup_printf("%" G_GINT64_FORMAT, v);
    }
    case BH_PROP_STRING: {
        gsize max = def->max > 0 ? (gsize)def->max : STRING_VALUE_MAX;
        gboolean text = (def->flags & BH_PROPF_TEXT) != 0;
        if (!is_clean_text(untrusted_value, max, text)) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                        "%s must be UTF-8 text without control characters%s, at most %" G_GSIZE_FORMAT
                        " bytes (it has %" G_GSIZE_FORMAT "); nothing was changed",
                        def->name, text ? " other than newlines and tabs" : "", max, strlen(untrusted_value));
            return NULL;
        }
        if (def->validate != NULL && !def->validate(untrusted_value, error))
            return NULL;
        return g_strdup(untrusted_value);
    }
    case BH_PROP_QUBE:
        if (untrusted_value[0] == '\0' || strcmp(untrusted_value, "none") == 0) {
            if (!(def->flags & BH_PROPF_ALLOW_NONE)) {
                g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                            "%s cannot be none; give the name of a qube", def->name);
                return NULL;
            }
            return g_strdup("");
        }
        if (strcmp(untrusted_value, "dom0") != 0 && !bh_qube_name_validate(untrusted_value, NULL)) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                        "%s must be the name of a qube%s; '%s' is not a valid qube name", def->name,
                        (def->flags & BH_PROPF_ALLOW_NONE) ? " or none" : "", shown);
            return NULL;
        }
        return g_strdup(untrusted_value);
    case BH_PROP_LABEL:
        if (bh_label_lookup(untrusted_value) == NULL) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                        "'%s' is not a label; use red, orange, yellow, green, gray, blue, purple or black",
                        shown);
            return NULL;
        }
        return g_strdup(untrusted_value);
    case BH_PROP_ENUM: {
        guint i;
        g_autofree char *list = g_strjoinv(", ", (char **)def->choices);
        for (i = 0; def->choices[i] != NULL; i++) {
            if (strcmp(untrusted_value, def->choices[i]) == 0)
                return g_strdup(def->choices[i]);
        }
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE, "%s must be one of %s; '%s' is not",
                    def->name, list, shown);
        return NULL;
    }
    }
    g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE, "%s has an unknown type", def->name);
    return NULL;
}
