/*
 * What the C generators (gen_header.c, gen_source.c) share: one spelling of
 * every generated name, the C type of each schema type, and literal values
 * turned into C initialisers. Internal to moosec.
 */
#ifndef MOOSEC_GEN_C_H
#define MOOSEC_GEN_C_H

#include <stdbool.h>
#include <stdio.h>

#include "ast.h"

/* printf into OUT, INDENT levels of 4 spaces first. */
void moosec_c_emit(FILE *out, int indent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* BASE ("raw-to-processed") as a C identifier ("raw_to_processed"). */
char *moosec_c_ident(moosec_arena *arena, const char *base);
/* The same in upper case, for the include guard ("RAW_TO_PROCESSED"). */
char *moosec_c_upper(moosec_arena *arena, const char *ident);

/* A field's member name: its own name, with '_' added after a C keyword. */
const char *moosec_c_member(moosec_arena *arena, const moosec_field *f);
/* The C enum type of an Enum field: "<Model>_<field>". */
const char *moosec_c_enum_type(moosec_arena *arena, const moosec_model *m, const moosec_field *f);
/* The constant of member I: "<Model>_<field>_<member>" (sanitised, unique in the enum). */
const char *moosec_c_enum_const(moosec_arena *arena, const moosec_model *m, const moosec_field *f,
                                size_t i);

/* The C type of one value of F (an element, for arrays): "moose_str", "int32_t", ... */
const char *moosec_c_value_type(moosec_arena *arena, const moosec_model *m, const moosec_field *f);
/* "MOOSE_TYPE_STRING", ... */
const char *moosec_c_type_const(moosec_type_kind kind);

/* Absent from a document, F is an error (neither optional nor defaulted). */
bool moosec_c_required(const moosec_field *f);
bool moosec_c_kind_is_int(moosec_type_kind kind);
bool moosec_c_kind_is_unsigned(moosec_type_kind kind);

/* S[0..LEN) as a C string literal, quotes included (octal escapes: safe before digits). */
char *moosec_c_string(moosec_arena *arena, const char *s, size_t len);

/* The initialiser of one value of F from literal V ("INT64_C(5)", "{\"x\", 1}"); NULL if V is not usable. */
char *moosec_c_value_init(moosec_arena *arena, const moosec_model *m, const moosec_field *f,
                          const moosec_value *v);
/* V as JSON text (the descriptor's default_json). */
char *moosec_c_value_json(moosec_arena *arena, const moosec_field *f, const moosec_value *v);

/* Models in an order where every model by value comes before its users. */
const moosec_model **moosec_c_model_order(moosec_arena *arena, const moosec_schema *schema);

#endif
