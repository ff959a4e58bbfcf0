"""Loads libcoffer.so and declares the functions of coffer.h."""
import ctypes
import ctypes.util
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    explicit = os.environ.get("COFFER_LIBRARY")
    if explicit:
        yield explicit
        return
    yield os.path.join(_HERE, "libcoffer.so")
    found = ctypes.util.find_library("coffer")
    if found:
        yield found
    yield "libcoffer.so"


def _load():
    errors = []
    for candidate in _candidates():
        if os.sep in candidate and not os.path.exists(candidate):
            errors.append(f"{candidate}: not found")
            continue
        try:
            return ctypes.CDLL(candidate)
        except OSError as error:
            errors.append(str(error))
    raise ImportError(
        "libcoffer.so not found (set COFFER_LIBRARY, or install it with `make install`): " + "; ".join(errors))


lib = _load()

_handle = ctypes.c_void_p
_text = ctypes.c_char_p
_bytes_out = ctypes.POINTER(ctypes.c_void_p)
_size = ctypes.c_size_t


def _declare(name, restype, *argtypes):
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)


_declare("coffer_open", ctypes.c_int, _text, ctypes.c_uint32, ctypes.POINTER(_handle))
_declare("coffer_open_pinned", ctypes.c_int, _text, ctypes.c_uint32, _text, ctypes.POINTER(_handle))
_declare("coffer_create_passphrase", ctypes.c_int, _text, ctypes.c_uint32, _text, _size, ctypes.c_uint64, ctypes.c_uint64,
         ctypes.POINTER(_handle))
_declare("coffer_create_recipient", ctypes.c_int, _text, ctypes.c_uint32, _text, ctypes.POINTER(_handle))
_declare("coffer_close", None, _handle)
_declare("coffer_message", _text, _handle)
_declare("coffer_path", _text, _handle)
_declare("coffer_unlock_passphrase", ctypes.c_int, _handle, _text, _size)
_declare("coffer_unlock_identity_file", ctypes.c_int, _handle, _text, _text, _size)
_declare("coffer_unlock_identity", ctypes.c_int, _handle, _text, _size)
_declare("coffer_unlock_session", ctypes.c_int, _handle, _text)
_declare("coffer_unlock_default", ctypes.c_int, _handle)
_declare("coffer_get", ctypes.c_int, _handle, _text, _text, _text, _bytes_out, ctypes.POINTER(_size))
_declare("coffer_set", ctypes.c_int, _handle, _text, _text, _text, _text, _size, _text, ctypes.c_uint32)
_declare("coffer_delete", ctypes.c_int, _handle, _text, _text, _text)
_declare("coffer_list", ctypes.c_int, _handle, _text, _text, _bytes_out, ctypes.POINTER(_size))
_declare("coffer_has_unsaved_changes", ctypes.c_int, _handle)
_declare("coffer_save", ctypes.c_int, _handle)
_declare("coffer_free", None, ctypes.c_void_p)

OPEN_LOCAL = 1
OVERWRITE = 1
NO_REVEAL = 2
