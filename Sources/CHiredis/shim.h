#ifndef SESSION_BRIDGE_CHIREDIS_SHIM_H
#define SESSION_BRIDGE_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
