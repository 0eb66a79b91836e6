/* vocab.c — errors, classes, names, tags and the label table (qubes.h).
 *
 * Owns: the syntax of names and tags and the one colour table.
 * Must never: keep state or trust its input; every string here may come from
 * a qube, so messages show it only through bh_qubes_quote. */
#include "bulkhead/qubes.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK(bh - qubes - error - quark, bh_qubes_error)

const char *bh_qubes_error_code_name(int code)
{
    static const char *const names[] = {
        [BH_QUBES_ERROR_NO_SUCH_QUBE] = "NoSuchQube",
        [BH_QUBES_ERROR_INVALID_NAME] = "InvalidName",
        [BH_QUBES_ERROR_NAME_IN_USE] = "NameInUse",
        [BH_QUBES_ERROR_NO_SUCH_PROPERTY] = "NoSuchProperty",
        [BH_QUBES_ERROR_INVALID_VALUE] = "InvalidValue",
        [BH_QUBES_ERROR_READ_ONLY] = "ReadOnly",
        [BH_QUBES_ERROR_IN_USE] = "InUse",
        [BH_QUBES_ERROR_NOT_A_TEMPLATE] = "NotATemplate",
        [BH_QUBES_ERROR_NOT_NETWORK_PROVIDER] = "NotNetworkProvider",
        [BH_QUBES_ERROR_NOT_DISPVM_TEMPLATE] = "NotDispvmTemplate",
        [BH_QUBES_ERROR_NETWORK_LOOP] = "NetworkLoop",
        [BH_QUBES_ERROR_PERMISSION] = "Permission",
        [BH_QUBES_ERROR_LIMIT] = "Limit",
        [BH_QUBES_ERROR_BUSY] = "Busy",
        [BH_QUBES_ERROR_STORE] = "Store",
        [BH_QUBES_ERROR_TOO_NEW] = "TooNew",
    };
    if (code <= 0 || (gsize)code >= G_N_ELEMENTS(names))
        return NULL;
    return names[code];
}

char *bh_qubes_quote(const char *untrusted)
{
    if (untrusted == NULL)
        return g_strdup("(null)");
    return bh_qubes_quote_len(untrusted, strlen(untrusted), 64);
}

char *bh_qubes_quote_len(const char *untrusted, gsize len, gsize shown_max)
{
    GString *out;
    gsize i;

    if (untrusted == NULL)
        return g_strdup("(null)");
    out = g_string_new(NULL);
    for (i = 0; i < len; i++) {
        guchar c = (guchar)untrusted[i];
        if (i == shown_max) {
            g_string_append(out, "...");
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\')
            g_string_append_c(out, (char)c);
        else
            g_string_append_printf(out, "\\x%02x", c);
    }
    return g_string_free(out, FALSE);
}

/* ---- classes ---------------------------------------------------------- */

static const char *const class_names[BH_CLASS_COUNT] = {
    [BH_CLASS_ADMIN_VM] = "AdminVM", [BH_CLASS_TEMPLATE_VM] = "TemplateVM",     [BH_CLASS_APP_VM] = "AppVM",
    [BH_CLASS_DISP_VM] = "DispVM",   [BH_CLASS_STANDALONE_VM] = "StandaloneVM",
};

const char *bh_class_name(BhQubeClass klass)
{
    if ((guint)klass >= BH_CLASS_COUNT)
        return "unknown";
    return class_names[klass];
}

gboolean bh_class_from_name(const char *name, BhQubeClass *out)
{
    guint i;

    if (name == NULL)
        return FALSE;
    for (i = 0; i < BH_CLASS_COUNT; i++) {
        if (g_ascii_strcasecmp(name, class_names[i]) == 0) {
            *out = (BhQubeClass)i;
            return TRUE;
        }
    }
    return FALSE;
}

/* ---- names and tags --------------------------------------------------- */

static gboolean is_name_char(char c)
{
    return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

gboolean bh_qube_name_validate(const char *untrusted_name, GError **error)
{
    static const char *const reserved[] = {"dom0", "none", "default"};
    g_autofree char *shown = bh_qubes_quote(untrusted_name);
    const char *rule = "use a letter first, then letters, digits, '_', '.' or '-', at most 31 bytes";
    gsize len, i;

    if (untrusted_name == NULL || untrusted_name[0] == '\0') {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME, "a qube name cannot be empty; %s",
                    rule);
        return FALSE;
    }
    len = strlen(untrusted_name);
    if (len > BH_QUBE_NAME_MAX) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                    "qube name '%s' is %zu bytes long, the limit is %d; choose a shorter name", shown, len,
                    BH_QUBE_NAME_MAX);
        return FALSE;
    }
    if (!g_ascii_isalpha(untrusted_name[0])) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                    "qube name '%s' must start with a letter (a-z, A-Z); %s", shown, rule);
        return FALSE;
    }
    for (i = 1; i < len; i++) {
        if (!is_name_char(untrusted_name[i])) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                        "qube name '%s' has a character that is not allowed at byte %zu; %s", shown, i, rule);
            return FALSE;
        }
    }
    for (i = 0; i < G_N_ELEMENTS(reserved); i++) {
        if (strcmp(untrusted_name, reserved[i]) == 0) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                        "'%s' is reserved and cannot name a qube; choose another name", reserved[i]);
            return FALSE;
        }
    }
    if (len >= 3 && strcmp(untrusted_name + len - 3, "-dm") == 0) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                    "qube name '%s' ends in '-dm', which Xen uses for device-model domains; "
                    "choose another name",
                    shown);
        return FALSE;
    }
    return TRUE;
}

char *bh_net_address(guint32 qid, gboolean disposable)
{
    if (qid == BH_QID_DOM0 || qid > BH_QID_MAX)
        return NULL;
    return g_strdup_printf("10.%u.%u.%u", disposable ? 138u : 137u, (qid >> 8) & 0xff, qid & 0xff);
}

char *bh_net_address6(guint32 qid, gboolean disposable)
{
    if (qid == BH_QID_DOM0 || qid > BH_QID_MAX)
        return NULL;
    /* 10.137 is 0x0a89, 10.138 0x0a8a; the qid's two bytes are the low
     * group, written as inet_ntop does (lower case, no leading zeros). */
    return g_strdup_printf(BH_NET_PREFIX6 "%x:%x", disposable ? 0x0a8au : 0x0a89u, qid & 0xffff);
}

gboolean bh_tag_validate(const char *untrusted_tag, GError **error)
{
    g_autofree char *shown = bh_qubes_quote(untrusted_tag);
    gsize i;

    if (untrusted_tag == NULL || untrusted_tag[0] == '\0') {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                    "a tag cannot be empty; use letters, digits, '_' or '-'");
        return FALSE;
    }
    for (i = 0; untrusted_tag[i] != '\0'; i++) {
        char c = untrusted_tag[i];
        if (i >= BH_TAG_MAX) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                        "tag '%s' is longer than %d bytes; choose a shorter tag", shown, BH_TAG_MAX);
            return FALSE;
        }
        if (!g_ascii_isalnum(c) && c != '_' && c != '-') {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                        "tag '%s' has a character that is not allowed at byte %zu; "
                        "use letters, digits, '_' or '-'",
                        shown, i);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean bh_service_validate(const char *untrusted_name, GError **error)
{
    g_autofree char *shown = bh_qubes_quote(untrusted_name);
    gsize i;

    if (untrusted_name == NULL || untrusted_name[0] == '\0') {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                    "a service's name cannot be empty; use letters, digits, '_', '-' or '.'");
        return FALSE;
    }
    for (i = 0; untrusted_name[i] != '\0'; i++) {
        char c = untrusted_name[i];
        if (i >= BH_SERVICE_MAX) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                        "service '%s' is longer than %d bytes; choose a shorter name", shown, BH_SERVICE_MAX);
            return FALSE;
        }
        /* The name becomes a file name in the qube: never '/', never "."
         * or ".." (the first character is a letter or digit). */
        if (!g_ascii_isalnum(c) && (i == 0 || (c != '_' && c != '-' && c != '.'))) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME,
                        "service '%s' has a character that is not allowed at byte %zu; use a letter or "
                        "digit first, then letters, digits, '_', '-' or '.'",
                        shown, i);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- labels ----------------------------------------------------------- */

/* Indices and colours follow Qubes so that users see the colours they know. */
static const BhLabel labels[BH_LABEL_COUNT] = {
    {1, "red", 0xcc0000, "#cc0000"},    {2, "orange", 0xf57900, "#f57900"},
    {3, "yellow", 0xedd400, "#edd400"}, {4, "green", 0x73d216, "#73d216"},
    {5, "gray", 0x555555, "#555555"},   {6, "blue", 0x3465a4, "#3465a4"},
    {7, "purple", 0x75507b, "#75507b"}, {8, "black", 0x000000, "#000000"},
};

const BhLabel *bh_labels(void)
{
    return labels;
}

const BhLabel *bh_label_lookup(const char *name)
{
    guint i;

    if (name == NULL)
        return NULL;
    for (i = 0; i < BH_LABEL_COUNT; i++) {
        if (strcmp(name, labels[i].name) == 0)
            return &labels[i];
    }
    return NULL;
}

const BhLabel *bh_label_by_index(guint index)
{
    if (index < 1 || index > BH_LABEL_COUNT)
        return NULL;
    return &labels[index - 1];
}

static double srgb_channel_to_linear(guint v)
{
    double c = v / 255.0;
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

double bh_rgb_luminance(guint32 rgb)
{
    return 0.2126 * srgb_channel_to_linear((rgb >> 16) & 0xff) +
           0.7152 * srgb_channel_to_linear((rgb >> 8) & 0xff) + 0.0722 * srgb_channel_to_linear(rgb & 0xff);
}

guint32 bh_label_text_rgb(const BhLabel *label)
{
    double l = bh_rgb_luminance(label->rgb);
    /* WCAG contrast ratios against black (L=0) and white (L=1). */
    double on_black = (l + 0.05) / 0.05;
    double on_white = 1.05 / (l + 0.05);
    return on_black > on_white ? 0x000000 : 0xffffff;
}
