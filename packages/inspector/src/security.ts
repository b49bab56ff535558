/**
 * Who may read and who may act. On a loopback address any local page load may
 * read, but only with a Host header naming the inspector (so a DNS-rebinding
 * page cannot read the journal); anywhere else every request needs the token.
 * Writes always need the token in a header (which a cross-origin page cannot
 * send without a CORS preflight the inspector never grants), a JSON body and
 * an Origin equal to the inspector's own.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

export const TOKEN_HEADER = "x-wf-token";
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

export function generateToken(): string {
  return randomBytes(24).toString("base64url");
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Browsers share cookies across ports, so the cookie is named after the port. */
export function cookieName(port: number): string {
  return `wf_inspector_${port}`;
}

export function sameToken(given: string | null | undefined, token: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a request presents: header, then cookie, then `?token=`. */
export function presentedToken(
  headers: { header(name: string): string | undefined },
  cookies: Record<string, string>,
  query: string | undefined,
  port: number,
): string | null {
  return headers.header(TOKEN_HEADER) ?? cookies[cookieName(port)] ?? query ?? null;
}

/** Host header values a loopback inspector answers to. */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** The security headers every response carries. Inline script is forbidden; React sets only style attributes. */
export const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  // The address may carry the token: never send it to another site.
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};
