/* util/xml.h: request bodies as a small tree, parsed by expat.
 * Bounded: at most XML_MAX_DEPTH levels and XML_MAX_NODES elements; a DTD or
 * entity declaration is refused (no entity expansion, no external fetch).
 * Namespaces are dropped from names ("{ns}Tag" is "Tag"): S3 clients send
 * the S3 namespace or none. Text is the concatenated character data of the
 * element itself. Everything lives in the arena. */
#ifndef KURA_UTIL_XML_H
#define KURA_UTIL_XML_H

#include "util/arena.h"

#include <stdbool.h>
#include <stddef.h>

#define XML_MAX_DEPTH 32
#define XML_MAX_NODES 100000

typedef struct xml_node xml_node_t;
struct xml_node {
    const char *name;
    const char *text; /* "" when none */
    size_t text_len;
    xml_node_t *parent, *first, *last, *next;
};

/* Returns the document element, or NULL if the bytes are not well-formed XML
 * within the limits. */
xml_node_t *xml_parse(arena_t *a, const char *data, size_t len);
/* First child named `name`, or NULL. */
xml_node_t *xml_child(const xml_node_t *n, const char *name);
/* Text of the first child named `name`, or NULL if there is no such child. */
const char *xml_child_text(const xml_node_t *n, const char *name);
size_t xml_count(const xml_node_t *n, const char *name);

#endif
