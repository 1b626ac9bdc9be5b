/*
 * The event bus: ZeroMQ through the broker (XSUB/XPUB). Wire format, one
 * message = two frames:
 *   frame 1  topic: the event type without "itgov." (e.g. "account.user.created")
 *   frame 2  the CloudEvent as JSON (UTF-8)
 * Subscribers filter by topic prefix. A publisher reports whether it is
 * connected to the broker, so the outbox relay never marks an event sent
 * while nobody could receive it.
 *
 * The broker is a CURVE server that admits only listed keys (zap.h): set
 * this process's keys with bus_set_curve() before making publishers or
 * subscribers.
 */
#ifndef ITGOV_BUS_H
#define ITGOV_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <event2/event.h>

struct bus_pub;
struct bus_sub;

/* The process's CURVE client secret key and the broker's public key (Z85);
 * our public key is derived from the secret. False if either is not a key. */
bool bus_set_curve(const char *secret, const char *server_public);
/* Our public key (Z85), NULL before bus_set_curve. */
const char *bus_curve_public(void);

struct bus_pub *bus_pub_new(void *zctx, const char *endpoint);
void bus_pub_destroy(struct bus_pub **self_p);
/* True when connected to the broker for at least the settle time (so that
 * subscriptions have reached us after a broker restart). */
bool bus_pub_ready(struct bus_pub *p);
/* Sends one event; false if it could not be queued. */
bool bus_pub_send(struct bus_pub *p, const char *topic, const char *json, size_t len);

typedef void (*bus_cb)(void *arg, const char *topic, const char *json, size_t len);
/* Subscribes to every prefix in prefixes (NULL-terminated; "" = all) and
 * calls cb from the loop for each message. */
struct bus_sub *bus_sub_new(struct event_base *base, void *zctx, const char *endpoint,
                            const char *const *prefixes, bus_cb cb, void *arg);
void bus_sub_destroy(struct bus_sub **self_p);

/* The topic of an event type: type without its "itgov." prefix. */
const char *bus_topic(const char *type);

#endif
