/* bh-shell-qube.c — one qube as the shell sees it (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-qube.h"

#include <arpa/inet.h>
#include <string.h>

struct _BhShellQube {
    GObject parent_instance;
    char *name;
    char *klass;
    char *state;
    char *label;
    char *color;
    char *template_name; /* "" for none; checked as a name */
    char *netvm;         /* "" for none; checked as a name */
    char *memory;        /* MiB as text, "" when unknown */
    char *private_size;  /* MiB as text, "" when unknown */
    char *ip;            /* dotted IPv4, "" without network (or unknown) */
    gboolean dispvm_template;
    gboolean provides_network;
};

G_DEFINE_FINAL_TYPE(BhShellQube, bh_shell_qube, G_TYPE_OBJECT)

/* The states org.bulkhead.Admin1 documents; anything else is refused so the
 * widgets never show a word nobody chose. */
static const char *const bh_states[] = {"Halted",  "Transient", "Running", "Paused",
                                        "Halting", "Dying",     "Crashed", NULL};

static void bh_shell_qube_finalize(GObject *object)
{
    BhShellQube *self = BH_SHELL_QUBE(object);

    g_free(self->name);
    g_free(self->klass);
    g_free(self->state);
    g_free(self->label);
    g_free(self->color);
    g_free(self->template_name);
    g_free(self->netvm);
    g_free(self->memory);
    g_free(self->private_size);
    g_free(self->ip);
    G_OBJECT_CLASS(bh_shell_qube_parent_class)->finalize(object);
}

static void bh_shell_qube_class_init(BhShellQubeClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = bh_shell_qube_finalize;
}

static void bh_shell_qube_init(BhShellQube *self)
{
}

gboolean bh_shell_label_name_is_valid(const char *label)
{
    size_t n = label != NULL ? strlen(label) : 0;

    if (n == 0 || n > 32)
        return FALSE;
    for (size_t i = 0; i < n; i++) {
        if (!g_ascii_islower(label[i]))
            return FALSE;
    }
    return TRUE;
}

gboolean bh_shell_qube_name_is_valid(const char *name)
{
    gsize n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > 64)
        return FALSE;
    for (gsize i = 0; i < n; i++) {
        if (!g_ascii_isalnum(name[i]) && name[i] != '-' && name[i] != '_' && name[i] != '.')
            return FALSE;
    }
    return TRUE;
}

gboolean bh_shell_color_is_valid(const char *color)
{
    if (color == NULL || strlen(color) != 7 || color[0] != '#')
        return FALSE;
    for (int i = 1; i < 7; i++) {
        if (!g_ascii_isxdigit(color[i]))
            return FALSE;
    }
    return TRUE;
}

static gboolean bh_state_is_known(const char *state)
{
    return state != NULL && g_strv_contains(bh_states, state);
}

/* Decimal digits only, at most 9 of them: anything else is shown as unknown. */
static gboolean bh_is_number(const char *text)
{
    size_t n = text != NULL ? strlen(text) : 0;

    if (n == 0 || n > 9)
        return FALSE;
    for (size_t i = 0; i < n; i++) {
        if (!g_ascii_isdigit(text[i]))
            return FALSE;
    }
    return TRUE;
}

/* An optional number: the text when it is one, else "" (unknown). */
static char *lookup_number(GVariantDict *dict, const char *key)
{
    g_autofree char *text = NULL;

    if (!g_variant_dict_lookup(dict, key, "s", &text) || !bh_is_number(text))
        return g_strdup("");
    return g_steal_pointer(&text);
}

/* An optional IPv4 address: the text when it is one, else "". */
static char *lookup_ip(GVariantDict *dict)
{
    g_autofree char *text = NULL;
    guint32 addr;

    if (!g_variant_dict_lookup(dict, "ip", "s", &text) || strlen(text) > 15 ||
        inet_pton(AF_INET, text, &addr) != 1)
        return g_strdup("");
    return g_steal_pointer(&text);
}

static gboolean lookup_string(GVariantDict *dict, const char *key, char **out, GError **error)
{
    if (!g_variant_dict_lookup(dict, key, "s", out)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "ListQubes entry without a string '%s'", key);
        return FALSE;
    }
    return TRUE;
}

BhShellQube *bh_shell_qube_new_from_variant(GVariant *entry, GError **error)
{
    g_autoptr(BhShellQube) self = g_object_new(BH_TYPE_SHELL_QUBE, NULL);
    g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

    if (!g_variant_is_of_type(entry, G_VARIANT_TYPE_VARDICT)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "ListQubes entry is not a{sv}");
        return NULL;
    }
    g_variant_dict_init(&dict, entry);
    if (!lookup_string(&dict, "name", &self->name, error) ||
        !lookup_string(&dict, "class", &self->klass, error) ||
        !lookup_string(&dict, "state", &self->state, error) ||
        !lookup_string(&dict, "label", &self->label, error) ||
        !lookup_string(&dict, "color", &self->color, error))
        return NULL;
    /* Absent or not a name: none (an older daemon simply has fewer groups). */
    if (!g_variant_dict_lookup(&dict, "template", "s", &self->template_name) ||
        !bh_shell_qube_name_is_valid(self->template_name)) {
        g_free(self->template_name);
        self->template_name = g_strdup("");
    }
    if (!g_variant_dict_lookup(&dict, "netvm", "s", &self->netvm) ||
        !bh_shell_qube_name_is_valid(self->netvm)) {
        g_free(self->netvm);
        self->netvm = g_strdup("");
    }
    self->memory = lookup_number(&dict, "memory");
    self->private_size = lookup_number(&dict, "private_size");
    self->ip = lookup_ip(&dict);
    /* Absent booleans are FALSE: an older daemon simply has fewer groups. */
    g_variant_dict_lookup(&dict, "template_for_dispvms", "b", &self->dispvm_template);
    g_variant_dict_lookup(&dict, "provides_network", "b", &self->provides_network);

    if (*self->name == '\0' || strlen(self->name) > 64 || !g_utf8_validate(self->name, -1, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "ListQubes entry with a bad name");
        return NULL;
    }
    if (!bh_state_is_known(self->state)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "qube %s: unknown state", self->name);
        return NULL;
    }
    if (!bh_shell_label_name_is_valid(self->label) || !bh_shell_color_is_valid(self->color)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "qube %s: bad label or colour", self->name);
        return NULL;
    }
    return g_steal_pointer(&self);
}

const char *bh_shell_qube_get_name(BhShellQube *self)
{
    return self->name;
}

const char *bh_shell_qube_get_template(BhShellQube *self)
{
    return self->template_name;
}

const char *bh_shell_qube_get_netvm(BhShellQube *self)
{
    return self->netvm;
}

const char *bh_shell_qube_get_class(BhShellQube *self)
{
    return self->klass;
}

const char *bh_shell_qube_get_state(BhShellQube *self)
{
    return self->state;
}

const char *bh_shell_qube_get_label(BhShellQube *self)
{
    return self->label;
}

const char *bh_shell_qube_get_color(BhShellQube *self)
{
    return self->color;
}

const char *bh_shell_qube_get_memory(BhShellQube *self)
{
    return self->memory;
}

const char *bh_shell_qube_get_private_size(BhShellQube *self)
{
    return self->private_size;
}

const char *bh_shell_qube_get_ip(BhShellQube *self)
{
    return self->ip;
}

gboolean bh_shell_qube_provides_network(BhShellQube *self)
{
    return self->provides_network;
}

gboolean bh_shell_qube_is_dispvm_template(BhShellQube *self)
{
    return self->dispvm_template;
}

BhShellGroup bh_shell_qube_get_group(BhShellQube *self)
{
    if (g_str_equal(self->klass, "AdminVM"))
        return BH_SHELL_GROUP_HIDDEN;
    if (g_str_equal(self->klass, "TemplateVM"))
        return BH_SHELL_GROUP_TEMPLATES;
    /* Qubes' "service" tab: the qubes that serve others (network here). */
    if (self->provides_network)
        return BH_SHELL_GROUP_SERVICE;
    return BH_SHELL_GROUP_APPS;
}

gboolean bh_shell_qube_is_active(BhShellQube *self)
{
    return !g_str_equal(self->state, "Halted") && !g_str_equal(self->klass, "AdminVM");
}

static gboolean replace_string(char **field, const char *value)
{
    if (g_strcmp0(*field, value) == 0)
        return FALSE;
    g_free(*field);
    *field = g_strdup(value);
    return TRUE;
}

gboolean bh_shell_qube_update(BhShellQube *self, BhShellQube *other)
{
    gboolean changed = FALSE;

    changed |= replace_string(&self->klass, other->klass);
    changed |= replace_string(&self->state, other->state);
    changed |= replace_string(&self->label, other->label);
    changed |= replace_string(&self->color, other->color);
    changed |= replace_string(&self->template_name, other->template_name);
    changed |= replace_string(&self->netvm, other->netvm);
    changed |= replace_string(&self->memory, other->memory);
    changed |= replace_string(&self->private_size, other->private_size);
    changed |= replace_string(&self->ip, other->ip);
    changed |= self->dispvm_template != other->dispvm_template;
    changed |= self->provides_network != other->provides_network;
    self->dispvm_template = other->dispvm_template;
    self->provides_network = other->provides_network;
    return changed;
}

gboolean bh_shell_qube_set_state(BhShellQube *self, const char *state)
{
    if (!bh_state_is_known(state))
        return FALSE;
    return replace_string(&self->state, state);
}

char *bh_shell_qube_css_class(BhShellQube *self)
{
    return g_strconcat("bh-label-", self->label, NULL);
}

const char *bh_shell_qube_get_kind(BhShellQube *self)
{
    /* As the menu groups it: sys-net is an app qube by class, but what a
     * user looks for in it is that it carries the others' network. */
    if (bh_shell_qube_get_group(self) == BH_SHELL_GROUP_SERVICE)
        return "service";
    if (g_str_equal(self->klass, "DispVM"))
        return "disposable";
    if (g_str_equal(self->klass, "TemplateVM"))
        return "template";
    if (g_str_equal(self->klass, "StandaloneVM"))
        return "standalone";
    return "app";
}

char *bh_shell_qube_icon_name(BhShellQube *self)
{
    return g_strdup_printf("bh-%s-%s", bh_shell_qube_get_kind(self), self->label);
}
