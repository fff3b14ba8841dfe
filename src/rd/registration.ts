/**
 * @module rd/registration
 * One registration of a resource directory (RFC 9176 §3.3, Figure 3): endpoint name, sector,
 * base URI, lifetime, endpoint attributes and the links as submitted, with the links resolved
 * against the base once (RFC 9176 §6.1) and the endpoint's own link for endpoint lookups
 * (RFC 9176 §6.4). Immutable: a change builds a new record, so a lookup never sees half of one.
 */
import { linkAttribute } from '../link-format/filter.js';
import type { Link } from '../link-format/index.js';
import { type EndpointAttribute, isGroupType } from './params.js';
import { isLinkLocalBase, resolveReference } from './uri-ref.js';

/** RFC 9176 §6.4: the constant resource type of endpoint links. */
export const ENDPOINT_RT = 'core.rd-ep';
/** RFC 9176 §9.4: the endpoint type of a group (Appendix A). */
export const GROUP_ET = 'core.rd-group';

/** What a registration is made of, before its derived fields. */
export interface RegistrationInput {
  /** The registration resource's last path segment (`/rd/{id}`). */
  readonly id: string;
  /** Creation order; kept when the registration is replaced or updated (lookup order). */
  readonly order: number;
  readonly ep: string;
  readonly d: string | undefined;
  /** The base URI in effect: the `base` parameter, or built from the requester's address. */
  readonly base: string;
  /** True when `base` was given explicitly (an update without `base` keeps it, RFC 9176 §5.3.1). */
  readonly baseGiven: boolean;
  /** Lifetime in seconds (RFC 9176 §5). */
  readonly lt: number;
  readonly attributes: readonly EndpointAttribute[];
  /** The links as the registrant submitted them (RFC 9176 §5). */
  readonly links: readonly Link[];
  /** Who made it (see rd/policy): only it or a commissioning tool may change it (RFC 9176 §7.5). */
  readonly owner: string;
  /** Made by simple registration (RFC 9176 §5.1). */
  readonly simple: boolean;
  /** When it expires, on the runtime clock (ms). */
  readonly expiresAt: number;
}

/** A registration with what lookups need precomputed. */
export interface Registration extends RegistrationInput {
  /** `/rd/{id}`: the registration resource. */
  readonly path: string;
  /** The links with targets and anchors resolved against the base (RFC 9176 §6.1). */
  readonly resolved: readonly Link[];
  /** The endpoint link of endpoint lookups (RFC 9176 §6.4). */
  readonly endpointLink: Link;
  /** `et=core.rd-group` (RFC 9176 Appendix A). */
  readonly isGroup: boolean;
  /** The base is an IPv6 link-local literal: shown only to lookups from a link-local address. */
  readonly linkLocal: boolean;
  /** Every `name=value` its resolved links carry, in one string (see {@link digestOf}). */
  readonly digest: string;
  /** The same for its endpoint link (registration resource as `href`). */
  readonly endpointDigest: string;
}

/** Separates the entries of a digest. */
export const DIGEST_MARK = '\u0001';
/** Attributes whose value is a space-separated list: each entry is its own digest entry. */
const LIST_NAMES = new Set(['rel', 'rev', 'rt', 'if', 'ct']);

/**
 * The `name=value` entries of all of the links (names in lower case; one entry per value of a
 * list attribute; `href=` with the target; `name=` for a valueless one), each between marks.
 * A lookup reads one flat string per registration instead of every link object: a criterion
 * whose entry (or, for a prefix, entry start) is not in it cannot match any of the links.
 */
export function digestOf(links: readonly Link[]): string {
  const parts: string[] = [''];
  for (const l of links) {
    parts.push(`href=${l.href}`);
    for (const [k, v] of l.attributes) {
      const name = k.toLowerCase();
      if (v === true) parts.push(`${name}=`);
      else if (LIST_NAMES.has(name)) for (const e of v.split(' ')) parts.push(`${name}=${e}`);
      else parts.push(`${name}=${v}`);
    }
  }
  parts.push('');
  return parts.join(DIGEST_MARK);
}

/**
 * The links with their target and, where present, anchor resolved against `base`; every other
 * attribute as submitted (RFC 9176 §6.1). A link without an anchor gets none.
 */
export function resolveLinks(links: readonly Link[], base: string): Link[] {
  return links.map((link) => {
    const href = resolveReference(link.href, base);
    let attributes = link.attributes;
    if (linkAttribute(link, 'anchor') !== undefined) {
      attributes = attributes.map(([k, v]) =>
        k.toLowerCase() === 'anchor' && typeof v === 'string' ? [k, resolveReference(v, base)] : [k, v],
      );
    }
    return { href, attributes };
  });
}

/**
 * The endpoint link (RFC 9176 §6.4): the registration resource, annotated with `ep`, `d` when
 * present, `base`, the further endpoint attributes, and `rt="core.rd-ep"`; never `lt`.
 */
export function endpointLink(r: RegistrationInput, path: string): Link {
  const attributes: Link['attributes'] = [['ep', r.ep]];
  if (r.d !== undefined) attributes.push(['d', r.d]);
  attributes.push(['base', r.base]);
  for (const [k, v] of r.attributes) attributes.push([k, v]);
  attributes.push(['rt', ENDPOINT_RT]);
  return { href: path, attributes };
}

/** Builds the record, with its derived fields, under the registration path prefix (`/rd`). */
export function makeRegistration(input: RegistrationInput, prefix: string): Registration {
  const path = `${prefix}/${input.id}`;
  const resolved = resolveLinks(input.links, input.base);
  const ep = endpointLink(input, path);
  return {
    ...input,
    path,
    resolved,
    digest: digestOf(resolved),
    endpointLink: ep,
    endpointDigest: digestOf([ep]),
    isGroup: isGroupType(input.attributes),
    linkLocal: isLinkLocalBase(input.base),
  };
}

/** The key that makes a registration unique: (ep, d) (RFC 9176 §5). */
export function keyOf(ep: string, d: string | undefined): string {
  return d === undefined ? `\u0000${ep}` : `${d}\u0000${ep}`;
}
