/* mqttlib.c — loads one Paho build at start and resolves its functions
 * (mqttlib.h).
 *
 * Callers: ph_publisher_new (once per process in parkagent; tests may call
 * it again). Threads: the caller's; the table is immutable once filled.
 * Owns: the dlopen handle (kept for the process's life) and the table.
 *
 * Why dlopen and not two link variants: one binary to install, and the
 * choice follows the configuration file, so a gateway switched to TLS by
 * an operator needs no other binary. Under sanitizers nothing changes: the
 * library is an ordinary shared object either way.
 */
#include "publish/mqttlib.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

static struct ph_mqttlib lib;
static void *handle;

#define SYM(field, name) {offsetof(struct ph_mqttlib, field), name}
static const struct {
  size_t off;
  const char *name;
} syms[] = {
    SYM(global_init, "MQTTAsync_global_init"),
    SYM(create, "MQTTAsync_createWithOptions"),
    SYM(set_callbacks, "MQTTAsync_setCallbacks"),
    SYM(connect, "MQTTAsync_connect"),
    SYM(disconnect, "MQTTAsync_disconnect"),
    SYM(is_connected, "MQTTAsync_isConnected"),
    SYM(subscribe, "MQTTAsync_subscribe"),
    SYM(send, "MQTTAsync_sendMessage"),
    SYM(wait, "MQTTAsync_waitForCompletion"),
    SYM(free_message, "MQTTAsync_freeMessage"),
    SYM(free, "MQTTAsync_free"),
    SYM(destroy, "MQTTAsync_destroy"),
};
#undef SYM

/* Fills every function of t from h; on a missing one names it in err. */
static int resolve(void *h, struct ph_mqttlib *t, struct ph_err *err) {
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
    void *f = dlsym(h, syms[i].name);
    if (!f) return ph_fail(err, PH_EMQTT, "mqtt: %s has no %s: %s", t->soname, syms[i].name, dlerror());
    /* POSIX guarantees a data pointer from dlsym converts to a function
     * pointer; memcpy says so without a cast ISO C would warn about. */
    memcpy((char *)t + syms[i].off, &f, sizeof f);
  }
  return 0;
}

static int load(bool tls, struct ph_err *err) {
  struct ph_mqttlib t = {.soname = tls ? PH_MQTTLIB_TLS : PH_MQTTLIB_PLAIN, .tls = tls};
  void *h = dlopen(t.soname, RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return ph_fail(err, PH_EMQTT, "mqtt: cannot load %s (the Paho MQTT C %s client; package libpaho-mqtt1.3): %s",
                   t.soname, tls ? "TLS" : "plain", dlerror());
  int rc = resolve(h, &t, err);
  if (rc) {
    dlclose(h);
    return rc;
  }
  MQTTAsync_init_options io = MQTTAsync_init_options_initializer;
  io.do_openssl_init = tls; /* inv. 2 */
  t.global_init(&io);
  lib = t;
  handle = h;
  return 0;
}

int ph_mqttlib_open(bool tls, const struct ph_mqttlib **out, struct ph_err *err) {
  if (handle && lib.tls != tls) /* inv. 1 */
    return ph_fail(err, PH_EINVAL, "mqtt: %s is loaded already; the %s build cannot be loaded beside it", lib.soname,
                   tls ? "TLS" : "plain");
  int rc = handle ? 0 : load(tls, err);
  if (!rc) *out = &lib;
  return rc;
}
