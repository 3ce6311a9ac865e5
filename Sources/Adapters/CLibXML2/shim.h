#ifndef CLIBXML2_SHIM_H
#define CLIBXML2_SHIM_H
/* Debian's libxml2 is built with ICU: <libxml/encoding.h> then pulls in <unicode/ucnv.h>,
 * whose UErrorCode clashes with Foundation's bundled _FoundationICU on a clean build. Hide it
 * before any other libxml2 header; only the tail of xmlCharEncodingHandler (never touched from
 * Swift) depends on it. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/c14n.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlerror.h>
/* xmlFree is a global function-pointer variable, which Swift 6 refuses as shared mutable state. */
static inline void shim_xmlFree(void *p) { xmlFree(p); }
#endif
