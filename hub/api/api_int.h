/* api_int.h — kept for files written against the old layout: everything a
 * handler may use, in one include. New handler files include what they use
 * instead: api_req.h (the request and its services), api_rows.h (the row
 * writer), api_out.h (buffers and raw writers), api_handlers.h (the
 * handlers, for the route table). Nothing here reaches the server (api.c). */
#ifndef PH_API_INT_H
#define PH_API_INT_H

#include "api_handlers.h"
#include "api_out.h"
#include "api_req.h"
#include "api_rows.h"

#endif
