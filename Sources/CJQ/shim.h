#ifndef SESSION_BRIDGE_CJQ_SHIM_H
#define SESSION_BRIDGE_CJQ_SHIM_H
#include <jq.h>
#endif
