/**
 * @module server/builder
 * The fluent builder returned by `server.resource(path)`: one handler per method.
 */
import type { MethodName } from '../message/codes.js';
import type { Handler, Resource } from './resource.js';

/**
 * Adds method handlers to one resource.
 *
 * @example
 * let state = 'off';
 * server
 *   .resource('/light', { multicast: true })
 *   .get(() => ({ payload: state }))
 *   .put((req) => {
 *     state = req.text();
 *     return { code: '2.04' };
 *   });
 */
export class ResourceBuilder {
  private readonly r: Resource;
  constructor(r: Resource) {
    this.r = r;
  }
  on(method: MethodName, handler: Handler): this {
    this.r.handlers.set(method, handler);
    return this;
  }
  get(h: Handler): this {
    return this.on('GET', h);
  }
  put(h: Handler): this {
    return this.on('PUT', h);
  }
  post(h: Handler): this {
    return this.on('POST', h);
  }
  delete(h: Handler): this {
    return this.on('DELETE', h);
  }
  fetch(h: Handler): this {
    return this.on('FETCH', h);
  }
  patch(h: Handler): this {
    return this.on('PATCH', h);
  }
  ipatch(h: Handler): this {
    return this.on('iPATCH', h);
  }
}
