/**
 * @module server/notify
 * Producing notifications (RFC 7641 §4.2): each observer's registering request is run through
 * the resource's GET handler again, so every observer gets the representation it asked for
 * (Accept, query), and a large one goes as its first block (RFC 7959 §2.6). An observer that
 * registered by a multicast request gets each notification after a Leisure on its group, drawn
 * like the first response's (groupcomm-bis §3.7, RFC 7252 §8.2).
 */

import { methodName } from '../message/codes.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { uintOption } from '../options/values.js';
import { pathOf, queryOf } from '../uri/index.js';
import { peerKey } from '../util/peer-key.js';
import { representationKey } from './block2.js';
import type { ServerContext } from './context.js';
import { runHandler } from './handler.js';
import { IncomingRequest } from './request.js';
import type { Resource } from './resource.js';
import { blockwise } from './respond.js';

/** Notifies every observer of `resource`; returns how many there were. */
export function notifyObservers(ctx: ServerContext, resource: Resource): number {
  const observers = ctx.observers.of(resource);
  for (const o of observers) {
    const method = methodName(o.request.code) ?? 'GET';
    const handler = resource.handlers.get(method);
    if (handler === undefined) {
      ctx.observers.remove(o.key);
      continue;
    }
    const res = o.responder;
    const req = new IncomingRequest(
      o.request,
      pathOf(o.request.options),
      queryOf(o.request.options),
      res.remote,
      res.multicast,
      res.group,
      o.security,
    );
    const sink = {
      done: (parts: ResponseParts) => {
        // RFC 7959 §2.6: the first block; the rest is fetched by plain GETs from this observer,
        // which find this version in the representation cache.
        const first = blockwise(ctx, parts, undefined, true, {
          representationKey: () => representationKey({ ...o.request, code: 1 }, peerKey(res.remote)),
        });
        if (!res.multicast) return ctx.observers.notify(o, first);
        // The group's next Leisure period.
        ctx.observers.notifyAfter(o, first, () => res.notificationDelay());
      },
    };
    runHandler(handler, req, method, uintOption(o.request.options, Opt.Accept), sink, resource.textMemo);
  }
  return observers.length;
}
