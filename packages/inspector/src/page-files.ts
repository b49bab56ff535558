/** The built page (vite build into ui/dist), read once at start and served from memory. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

export interface PageAsset {
  body: Buffer;
  /** Compressed once at start: the script is most of the page's weight. */
  gzipped: Buffer;
  contentType: string;
}

export interface PageFiles {
  /** index.html, with `<!--wf-token-->` where the token meta tag goes. */
  indexHtml: string;
  /** Served paths (such as `/assets/index-abc.js`) to body, its gzip and content type. */
  assets: Map<string, PageAsset>;
}

/** Where the page is: ui/dist in the package, reached the same way from dist/ and (in tests) src/. */
function pageDir(): string {
  const dir = fileURLToPath(new URL("../ui/dist/", import.meta.url));
  try {
    if (statSync(join(dir, "index.html")).isFile()) return dir;
  } catch {}
  throw new Error(
    `The inspector page is not built (no ${join(dir, "index.html")}). Run \`npm run build\` in packages/inspector.`,
  );
}

export function loadPageFiles(): PageFiles {
  const dir = pageDir();
  const assets = new Map<string, PageAsset>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const contentType = CONTENT_TYPES[extname(entry.name)];
    if (!contentType || entry.name === "index.html") continue;
    const served = `/${relative(dir, full).split(sep).join("/")}`;
    const body = readFileSync(full);
    assets.set(served, { body, gzipped: gzipSync(body), contentType });
  }
  return { indexHtml: readFileSync(join(dir, "index.html"), "utf8"), assets };
}
