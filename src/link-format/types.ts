/**
 * @module link-format/types
 * The in-memory form of one CoRE link (RFC 6690 §2): its target and its target attributes.
 */

/**
 * One link-value (RFC 6690 §2). Attributes keep the order and the spelling they had on the wire,
 * repeats included, so that a parsed payload can be written back unchanged.
 *
 * A valueless attribute such as `obs` has the value `true`; `title=""` has the value `''`.
 * Quoted values are held unquoted and unescaped (RFC 2616 §2.2 quoted-string).
 */
export interface Link {
  /** The URI-Reference between `<` and `>`, as written (RFC 6690 §2.1). */
  href: string;
  attributes: Array<[name: string, value: string | true]>;
}
