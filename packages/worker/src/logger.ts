/** Any pino-compatible logger (pino itself, or a child of one): an object first, then the message. */
export interface WorkerLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const ignore = () => {};

/** The default: logs nothing. */
export const silentLogger: WorkerLogger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
};
