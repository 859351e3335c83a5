/*
 * errors.c - the table of brine error codes: Python class and message.
 *
 * Messages are CPython's where CPython's is static, and a close static
 * paraphrase where CPython formats in a name or a value.
 */
#include "brine.h"
#include "errors.h"

#include <stddef.h>

typedef struct {
    const char *pyclass;
    const char *msg;
} error_info;

static const error_info error_table[BRINE_E__COUNT] = {
    [BRINE_OK] = {NULL, "no error"},
    [BRINE_E_NOMEM] = {"MemoryError", "out of memory"},
    [BRINE_E_LIMIT_MEMORY] = {"MemoryError", "decode memory cap exceeded"},
    [BRINE_E_LIMIT_MEMO] = {"MemoryError", "memo entry cap exceeded"},
    [BRINE_E_LIMIT_MARKS] = {"MemoryError", "MARK nesting cap exceeded"},
    [BRINE_E_USAGE] = {"ValueError", "invalid argument"},
    [BRINE_E_IO] = {"OSError", "write failed"},
    [BRINE_E_EOF] = {"EOFError", "Ran out of input"},
    [BRINE_E_TRUNCATED] = {"UnpicklingError", "pickle data was truncated"},
    [BRINE_E_BAD_OPCODE] = {"UnpicklingError", "invalid load key"},
    [BRINE_E_STACK_UNDERFLOW] = {"UnpicklingError", "unpickling stack underflow"},
    [BRINE_E_UNEXPECTED_MARK] = {"UnpicklingError", "unexpected MARK found"},
    [BRINE_E_NO_MARK] = {"UnpicklingError", "could not find MARK"},
    [BRINE_E_MEMO_MISSING] = {"UnpicklingError", "Memo value not found at index"},
    [BRINE_E_ODD_DICT] = {"UnpicklingError", "odd number of items for DICT"},
    [BRINE_E_ODD_SETITEMS] = {"UnpicklingError", "odd number of items for SETITEMS"},
    [BRINE_E_STRING_QUOTES] = {"UnpicklingError", "the STRING opcode argument must be quoted"},
    [BRINE_E_LONG_NEGATIVE] = {"UnpicklingError", "LONG pickle has negative byte count"},
    [BRINE_E_NEWOBJ_CLS] = {"UnpicklingError", "NEWOBJ class argument must be a type"},
    [BRINE_E_NEWOBJ_ARGS] = {"UnpicklingError", "NEWOBJ args argument must be a tuple"},
    [BRINE_E_NEWOBJ_KWARGS] = {"UnpicklingError", "NEWOBJ_EX kwargs argument must be a dict"},
    [BRINE_E_STACK_GLOBAL] = {"UnpicklingError", "STACK_GLOBAL requires str"},
    [BRINE_E_PERSID_ASCII] = {"UnpicklingError",
                              "persistent IDs in protocol 0 must be ASCII strings"},
    [BRINE_E_EXT_CODE] = {"UnpicklingError", "EXT specifies code <= 0"},
    [BRINE_E_STATE_NOT_DICT] = {"UnpicklingError", "state is not a dictionary"},
    [BRINE_E_SLOTSTATE_NOT_DICT] = {"UnpicklingError", "slot state is not a dictionary"},
    [BRINE_E_NO_BUFFERS] = {"UnpicklingError", "pickle stream refers to out-of-band data but "
                                               "no *buffers* argument was given"},
    [BRINE_E_FEW_BUFFERS] = {"UnpicklingError", "not enough out-of-band buffers"},
    [BRINE_E_READ_OVERFLOW] = {"UnpicklingError", "read would overflow (invalid bytecode)"},
    [BRINE_E_INT_PARSE] = {"ValueError", "could not convert string to int"},
    [BRINE_E_LONG_PARSE] = {"ValueError", "invalid literal for int()"},
    [BRINE_E_INT_DIGITS] = {"ValueError",
                            "Exceeds the limit (4300 digits) for integer string conversion"},
    [BRINE_E_FLOAT_PARSE] = {"ValueError", "could not convert string to float"},
    [BRINE_E_PROTO] = {"ValueError", "unsupported pickle protocol"},
    [BRINE_E_NEGATIVE_PUT] = {"ValueError", "negative PUT argument"},
    [BRINE_E_EXT_UNREGISTERED] = {"ValueError", "unregistered extension code"},
    [BRINE_E_ESCAPE] = {"ValueError", "invalid \\x escape or trailing \\ in string"},
    [BRINE_E_BYTE_RANGE] = {"ValueError", "byte must be in range(0, 256)"},
    [BRINE_E_SIZE_OVERFLOW] = {"OverflowError", "length exceeds system's maximum size"},
    [BRINE_E_FLOAT_OVERFLOW] = {"OverflowError", "value too large to convert to float"},
    [BRINE_E_INDEX_OVERFLOW] = {"OverflowError", "Python int too large to convert to C ssize_t"},
    [BRINE_E_NOT_CALLABLE] = {"TypeError", "object is not callable"},
    [BRINE_E_ARGS_NOT_TUPLE] = {"TypeError", "argument list must be a tuple"},
    [BRINE_E_UNHASHABLE] = {"TypeError", "unhashable type"},
    [BRINE_E_NO_SETITEM] = {"TypeError", "object does not support item assignment"},
    [BRINE_E_INDEX_TYPE] = {"TypeError", "indices must be integers"},
    [BRINE_E_ATTR_NAME_TYPE] = {"TypeError", "attribute name must be string"},
    [BRINE_E_CLASS_ASSIGN] = {"TypeError", "__class__ assignment not supported"},
    [BRINE_E_NOT_BUFFER] = {"TypeError", "memoryview: a bytes-like object is required"},
    [BRINE_E_NOT_INTEGER] = {"TypeError", "object cannot be interpreted as an integer"},
    [BRINE_E_KEYWORDS_NOT_STR] = {"TypeError", "keywords must be strings"},
    [BRINE_E_READONLY] = {"TypeError", "cannot modify read-only memory"},
    [BRINE_E_HANDLER_TYPE] = {"TypeError",
                              "don't know how to handle UnicodeDecodeError in error callback"},
    [BRINE_E_BUFFER_EXPORT] = {"BufferError",
                               "Existing exports of data: object cannot be re-sized"},
    [BRINE_E_NO_ATTRIBUTE] = {"AttributeError", "object has no such attribute"},
    [BRINE_E_INDEX_RANGE] = {"IndexError", "index out of range"},
    [BRINE_E_UNICODE_DECODE] = {"UnicodeDecodeError", "cannot decode bytes"},
    [BRINE_E_UNICODE_ENCODE] = {"UnicodeEncodeError", "cannot encode character"},
    [BRINE_E_UNKNOWN_ENCODING] = {"LookupError", "unknown encoding"},
    [BRINE_E_UNKNOWN_ERRORS] = {"LookupError", "unknown error handler name"},
    [BRINE_E_PICKLING] = {"PicklingError", "cannot pickle this value"},
    [BRINE_E_ENCODE_VALUE] = {"ValueError", "cannot pickle this value"},
    [BRINE_E_ENCODE_OVERFLOW] = {"OverflowError", "value too large to pickle"},
    [BRINE_E_SYNTAX] = {"ValueError", "malformed canonical text"},
};

const char *brine_error_pyclass(brine_code code) {
    if ((unsigned)code >= BRINE_E__COUNT) return "SystemError";
    return error_table[code].pyclass;
}

const char *brine_error_message(brine_code code) {
    if ((unsigned)code >= BRINE_E__COUNT) return "unknown error code";
    return error_table[code].msg;
}

void brine_set_error(brine_error *err, brine_code code, const char *msg, size_t offset) {
    if (!err) return;
    err->code = code;
    err->pyclass = brine_error_pyclass(code);
    err->msg = msg ? msg : brine_error_message(code);
    err->offset = offset;
    err->line = 0;
    err->column = 0;
}

void brine_clear_error(brine_error *err) {
    if (!err) return;
    err->code = BRINE_OK;
    err->pyclass = NULL;
    err->msg = error_table[BRINE_OK].msg;
    err->offset = 0;
    err->line = 0;
    err->column = 0;
}
