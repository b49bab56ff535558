/** Longest message quoted: a hostile id can make an error message megabytes long. */
const MESSAGE_LENGTH = 300;

/** An error as one line: its class, its code if any, and its message (cut). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message =
      error.message.length > MESSAGE_LENGTH
        ? `${error.message.slice(0, MESSAGE_LENGTH)}… (${error.message.length} characters)`
        : error.message;
    return `${error.name}${typeof code === "string" ? ` ${code}` : ""}: ${message}`;
  }
  return `thrown ${typeof error}: ${String(error).slice(0, MESSAGE_LENGTH)}`;
}

/** The `code` of an error, if it has a string one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
