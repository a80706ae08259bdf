#include "lodge-error.h"

G_DEFINE_QUARK (lodge-error-quark, lodge_error)
