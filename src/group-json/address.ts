/**
 * @module group-json/address
 * The two string values of a group membership object (RFC 7390 §2.6.2.1): `"a"`
 * (`group-address = IPv4address [":" port] / "[" IPv6address "]" [":" port]`, with the
 * RFC 3986 §3.2.2 rules) and `"n"` (`group-name = host [":" port]`, read as an RFC 1123 host
 * name). Parsing is strict, formatting canonical, so one membership has one text.
 */
import { canonicalIPv6, ipv6ToBytes, isIPv6, isMulticast } from '../util/ip.js';
import { GroupJsonError, quote } from './error.js';
import type { GroupAddress, GroupName } from './types.js';

/** RFC 3986 §3.2.2 `dec-octet`: no leading zeros, so "010.0.0.1" has no second reading (octal). */
const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const IPV4 = new RegExp(`^${DEC_OCTET}(?:\\.${DEC_OCTET}){3}$`);

/**
 * RFC 3986 §3.2.3 allows `*DIGIT`, so also "" and "05683". We take 1-65535 in plain decimal
 * only: an empty port is a producer error that §3.2.3 asks producers to avoid, port 0 cannot be
 * joined or sent to, and a leading zero could be read as octal by other tools.
 */
const PORT = /^[1-9][0-9]{0,4}$/;

/** RFC 1123 §2.1 label: letters, digits, hyphen; 1-63 long; no hyphen at either end. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * A last label that is all digits, or hex (`0x7f000001`), is read as an IPv4 address by
 * inet_aton-style resolvers (`10.1`, `127.1`); RFC 3696 §2 rules out numeric top-level labels.
 */
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/i;

const MAX_HOST_LENGTH = 253;

function readPort(text: string, where: string): number {
  if (!PORT.test(text) || Number(text) > 65535) {
    throw new GroupJsonError(
      `${where}: port ${quote(text)} is not a decimal number 1-65535 without leading zeros`,
    );
  }
  return Number(text);
}

/** True when the first byte is 0xff (RFC 4291 §2.7). Not `isMulticast`, which reads "ff::1" (00ff::1) as ff00::/8. */
function isIPv6Multicast(address: string): boolean {
  return ipv6ToBytes(address)[0] === 0xff;
}

/** Reads an `"a"` value; `where` starts each message, e.g. `member "a"`. */
export function readGroupAddress(text: string, where: string): GroupAddress {
  if (text === '')
    throw new GroupJsonError(`${where}: is empty; give an IPv4 address or a bracketed IPv6 address`);
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new GroupJsonError(`${where}: ${quote(text)} has "[" without a closing "]"`);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) {
        throw new GroupJsonError(
          `${where}: ${quote(text)} has ${quote(rest)} after "]"; only ":port" may follow`,
        );
      }
      portText = rest.slice(1);
    }
    // A zone (RFC 6874 "%25eth0", or a bare "%eth0") names an interface of one node; which
    // interface joins a group is that node's own configuration, not something a remote
    // controller can name portably, and RFC 7390 §2.6.2.1 uses the RFC 3986 grammar, which has none.
    if (host.includes('%')) {
      throw new GroupJsonError(
        `${where}: ${quote(text)} has a zone; zones are local to a node and are not allowed here`,
      );
    }
    if (/^v/i.test(host)) {
      throw new GroupJsonError(
        `${where}: ${quote(text)} is an IPvFuture literal, which has no multicast meaning`,
      );
    }
    if (!isIPv6(host)) throw new GroupJsonError(`${where}: ${quote(host)} is not an IPv6 address`);
    if (!isIPv6Multicast(host)) {
      throw new GroupJsonError(`${where}: ${quote(host)} is not a multicast address (ff00::/8)`);
    }
    const port = portText === undefined ? undefined : readPort(portText, where);
    return { address: canonicalIPv6(host), family: 6, port };
  }
  const colon = text.indexOf(':');
  if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) {
    // Several colons: an IPv6 address without brackets. "ff15::1:4567" would be ambiguous.
    throw new GroupJsonError(
      `${where}: ${quote(text)} must be in brackets, e.g. "[ff15::1]" or "[ff15::1]:5683"`,
    );
  }
  host = colon < 0 ? text : text.slice(0, colon);
  portText = colon < 0 ? undefined : text.slice(colon + 1);
  if (host.includes('%')) {
    throw new GroupJsonError(
      `${where}: ${quote(text)} has a zone; zones are local to a node and are not allowed here`,
    );
  }
  if (!IPV4.test(host)) {
    const hint = /[a-z]/i.test(host) ? '; a host name belongs in "n"' : '';
    throw new GroupJsonError(
      `${where}: ${quote(host)} is not an IPv4 address or a bracketed IPv6 address${hint}`,
    );
  }
  if (!isMulticast(host)) {
    throw new GroupJsonError(`${where}: ${quote(host)} is not a multicast address (224.0.0.0/4)`);
  }
  const port = portText === undefined ? undefined : readPort(portText, where);
  return { address: host, family: 4, port };
}

/** Checks an RFC 1123 host name and returns it lower case, without a trailing dot. */
function readHost(text: string, where: string): string {
  if (text.startsWith('[') || isIPv6(text) || IPV4.test(text)) {
    throw new GroupJsonError(`${where}: ${quote(text)} is an IP address; IP addresses belong in "a"`);
  }
  // One trailing dot marks an absolute name (RFC 1034 §3.1); it is the same host, so drop it.
  const host = text.endsWith('.') ? text.slice(0, -1) : text;
  if (host === '') throw new GroupJsonError(`${where}: the host name is empty`);
  if (host.length > MAX_HOST_LENGTH) {
    throw new GroupJsonError(
      `${where}: the host name is ${host.length} characters long; at most ${MAX_HOST_LENGTH}`,
    );
  }
  const labels = host.split('.');
  for (const label of labels) {
    if (label === '') throw new GroupJsonError(`${where}: ${quote(text)} has an empty label`);
    if (label.length > 63) {
      throw new GroupJsonError(
        `${where}: label ${quote(label)} is ${label.length} characters long; at most 63`,
      );
    }
    if (!LABEL.test(label)) {
      // Non-ASCII names must arrive as A-labels ("xn--..."), as DNS carries them.
      throw new GroupJsonError(
        `${where}: label ${quote(label)} must be letters, digits and inner hyphens (RFC 1123 host name)`,
      );
    }
  }
  if (NUMERIC_LABEL.test(labels[labels.length - 1]!)) {
    throw new GroupJsonError(
      `${where}: ${quote(text)} ends in a numeric label, which resolvers take as an IP address; IP addresses belong in "a"`,
    );
  }
  return host.toLowerCase();
}

/** Reads an `"n"` value; `where` starts each message, e.g. `member "n"`. */
export function readGroupName(text: string, where: string): GroupName {
  if (text === '') throw new GroupJsonError(`${where}: is empty; give a host name`);
  const colon = text.indexOf(':');
  if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) {
    throw new GroupJsonError(`${where}: ${quote(text)} is not a host name; IP addresses belong in "a"`);
  }
  const host = readHost(colon < 0 ? text : text.slice(0, colon), where);
  const port = colon < 0 ? undefined : readPort(text.slice(colon + 1), where);
  return { host, port };
}

function checkPort(port: number | undefined, where: string): string {
  if (port === undefined) return '';
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new GroupJsonError(`${where}: port ${String(port)} is not an integer 1-65535`);
  }
  return `:${port}`;
}

/** Writes an `"a"` value: dotted decimal or bracketed RFC 5952 IPv6 (R44), then `:port` if set. */
export function writeGroupAddress(a: GroupAddress, where: string): string {
  const port = checkPort(a.port, where);
  if (a.family === 4) {
    if (typeof a.address !== 'string' || !IPV4.test(a.address)) {
      throw new GroupJsonError(`${where}: ${quote(String(a.address))} is not an IPv4 address`);
    }
    if (!isMulticast(a.address)) {
      throw new GroupJsonError(`${where}: ${quote(a.address)} is not a multicast address (224.0.0.0/4)`);
    }
    return `${a.address}${port}`;
  }
  if (a.family === 6) {
    if (typeof a.address !== 'string' || a.address.includes('%') || !isIPv6(a.address)) {
      throw new GroupJsonError(`${where}: ${quote(String(a.address))} is not an IPv6 address without a zone`);
    }
    if (!isIPv6Multicast(a.address)) {
      throw new GroupJsonError(`${where}: ${quote(a.address)} is not a multicast address (ff00::/8)`);
    }
    return `[${canonicalIPv6(a.address)}]${port}`;
  }
  throw new GroupJsonError(`${where}: family ${String(a.family)} is neither 4 nor 6`);
}

/** Writes an `"n"` value: the host in lower case, then `:port` if set. */
export function writeGroupName(n: GroupName, where: string): string {
  if (typeof n.host !== 'string') throw new GroupJsonError(`${where}: the host is not a string`);
  return `${readHost(n.host, where)}${checkPort(n.port, where)}`;
}

/**
 * Parses a group address such as `224.0.1.187:56789` or `[ff15::1]` (RFC 7390 §2.6.2.1), e.g.
 * from a command line. Throws GroupJsonError when it is not a multicast address in that syntax.
 */
export function parseGroupAddress(text: string): GroupAddress {
  return readGroupAddress(text, 'group address');
}

/** Parses a group name such as `lights.example.com:5683` (RFC 7390 §2.6.2.1). Throws GroupJsonError. */
export function parseGroupName(text: string): GroupName {
  return readGroupName(text, 'group name');
}
