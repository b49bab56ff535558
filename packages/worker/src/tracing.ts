/**
 * Spans through `@opentelemetry/api` when the application has it installed
 * (an optional peer), and nothing otherwise. The API is a no-op until the
 * application registers a tracer provider, as OpenTelemetry intends.
 */
import type { Span, Tracer } from "@opentelemetry/api";

/** What the worker records for one job or step. */
export interface SpanHandle {
  /** Adds attributes known only later (the status a step ended in). */
  set(attributes: Record<string, string | number>): void;
  /** Ends the span; with an error, its status is ERROR and the exception recorded. */
  end(error?: unknown): void;
}

export interface WorkerTracer {
  /** Runs `work` inside a span named `name`, so spans it starts are its children. */
  span<T>(
    name: string,
    attributes: Record<string, string | number>,
    work: (span: SpanHandle) => Promise<T>,
  ): Promise<T>;
}

const noopHandle: SpanHandle = { set: () => undefined, end: () => undefined };

/** Runs `work` with no span. */
export const noopTracer: WorkerTracer = { span: (_name, _attributes, work) => work(noopHandle) };

/** SpanStatusCode.ERROR of the API, without importing its enum eagerly. */
const STATUS_ERROR = 2;

function handle(span: Span): SpanHandle {
  let ended = false;
  return {
    set: (attributes) => span.setAttributes(attributes),
    end: (error) => {
      if (ended) return;
      ended = true;
      if (error !== undefined) {
        const exception = error instanceof Error ? error : new Error(String(error));
        span.recordException(exception);
        span.setStatus({ code: STATUS_ERROR, message: exception.message });
      }
      span.end();
    },
  };
}

function fromTracer(tracer: Tracer): WorkerTracer {
  return {
    span: (name, attributes, work) =>
      tracer.startActiveSpan(name, { attributes }, async (span) => {
        const spanHandle = handle(span);
        try {
          const result = await work(spanHandle);
          spanHandle.end();
          return result;
        } catch (error) {
          spanHandle.end(error);
          throw error;
        }
      }),
  };
}

/** The tracer of `@opentelemetry/api` named for this package, or the no-op one when it is not installed. */
export async function loadTracer(): Promise<WorkerTracer> {
  try {
    const api = await import("@opentelemetry/api");
    return fromTracer(api.trace.getTracer("@wf/worker"));
  } catch {
    return noopTracer;
  }
}
