import { fileURLToPath } from "node:url";

/**
 * The directory a store URL names: `file:///abs/path` (a standard file URL,
 * percent-decoded), `file:relative/or/absolute` (the rest taken as a path,
 * so `file:./logs` stays relative to the working directory as a shell user
 * expects, which the URL standard would turn into `/logs`), or a bare path.
 */
export function dirFromUrl(url: string): string {
  if (typeof url !== "string" || url.length === 0) {
    throw new TypeError(
      `FileSystemStorage.fromUrl needs a URL or path, got ${JSON.stringify(url)}`,
    );
  }
  if (url.startsWith("file://")) {
    const parsed = new URL(url);
    if (parsed.search !== "" || parsed.hash !== "") {
      throw new TypeError(
        `FileSystemStorage.fromUrl: ${JSON.stringify(url)} has a query or fragment, which file URLs do not take; expected file:///absolute/path, file:./relative/path or a plain path.`,
      );
    }
    return fileURLToPath(parsed);
  }
  const dir = url.startsWith("file:") ? url.slice("file:".length) : url;
  if (dir.length === 0) {
    throw new TypeError(
      `FileSystemStorage.fromUrl: ${JSON.stringify(url)} names no directory; expected file:./logs, file:///absolute/path or a plain path.`,
    );
  }
  return dir;
}
