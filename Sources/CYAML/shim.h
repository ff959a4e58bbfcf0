#ifndef COFFER_CYAML_SHIM_H
#define COFFER_CYAML_SHIM_H
#include <yaml.h>
#endif
