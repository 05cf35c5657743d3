/* util/xml.c: expat into a bounded tree (see xml.h). */
#include "util/xml.h"

#include "util/buf.h"

#include <expat.h>
#include <string.h>

typedef struct {
    arena_t *a;
    XML_Parser p;
    xml_node_t *root, *cur;
    buf_t text; /* character data of cur, until its end tag */
    size_t depth, nodes;
    bool failed;
} xml_state_t;

static void fail(xml_state_t *s)
{
    s->failed = true;
    XML_StopParser(s->p, XML_FALSE);
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    xml_state_t *s = ud;
    if (s->failed)
        return;
    if (++s->depth > XML_MAX_DEPTH || ++s->nodes > XML_MAX_NODES || (s->root && !s->cur)) {
        fail(s);
        return;
    }
    const char *local = strrchr(name, '\x01'); /* namespace separator */
    xml_node_t *n = arena_alloc(s->a, sizeof *n);
    if (!n) {
        fail(s);
        return;
    }
    n->name = arena_strdup(s->a, local ? local + 1 : name);
    n->text = "";
    n->parent = s->cur;
    if (s->cur) {
        /* Text collected so far belongs to the parent; keep it (mixed content is rare). */
        if (s->cur->last)
            s->cur->last->next = n;
        else
            s->cur->first = n;
        s->cur->last = n;
    } else {
        s->root = n;
    }
    buf_reset(&s->text);
    s->cur = n;
}

static void on_end(void *ud, const XML_Char *name)
{
    (void)name;
    xml_state_t *s = ud;
    if (s->failed || !s->cur)
        return;
    if (!s->cur->first) {
        if (!buf_ok(&s->text)) {
            fail(s);
            return;
        }
        s->cur->text = arena_strndup(s->a, buf_cstr(&s->text), s->text.len);
        s->cur->text_len = s->text.len;
    }
    buf_reset(&s->text);
    s->cur = s->cur->parent;
    s->depth--;
}

static void on_text(void *ud, const XML_Char *t, int len)
{
    xml_state_t *s = ud;
    if (!s->failed && s->cur && len > 0)
        buf_append(&s->text, t, (size_t)len);
}

static void on_decl(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                    int has_internal)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal;
    fail(ud); /* no DTDs: nothing to expand, nothing to fetch */
}

static void on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                      int value_len, const XML_Char *base, const XML_Char *sysid,
                      const XML_Char *pubid, const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
    (void)pubid, (void)notation;
    fail(ud);
}

xml_node_t *xml_parse(arena_t *a, const char *data, size_t len)
{
    xml_state_t s = {.a = a};
    buf_init(&s.text, (size_t)16 << 20);
    s.p = XML_ParserCreateNS("UTF-8", '\x01');
    if (!s.p) {
        buf_release(&s.text);
        return NULL;
    }
    XML_SetUserData(s.p, &s);
    XML_SetElementHandler(s.p, on_start, on_end);
    XML_SetCharacterDataHandler(s.p, on_text);
    XML_SetStartDoctypeDeclHandler(s.p, on_decl);
    XML_SetEntityDeclHandler(s.p, on_entity);
    enum XML_Status st = XML_STATUS_ERROR;
    if (len <= (size_t)1 << 30)
        st = XML_Parse(s.p, data, (int)len, XML_TRUE);
    XML_ParserFree(s.p);
    buf_release(&s.text);
    if (st != XML_STATUS_OK || s.failed || !s.root || s.depth != 0)
        return NULL;
    return s.root;
}

xml_node_t *xml_child(const xml_node_t *n, const char *name)
{
    for (xml_node_t *c = n ? n->first : NULL; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const char *xml_child_text(const xml_node_t *n, const char *name)
{
    xml_node_t *c = xml_child(n, name);
    return c ? c->text : NULL;
}

size_t xml_count(const xml_node_t *n, const char *name)
{
    size_t k = 0;
    for (xml_node_t *c = n ? n->first : NULL; c; c = c->next)
        k += strcmp(c->name, name) == 0;
    return k;
}
