/** Test helpers: capture what a run prints to stderr (where daskflow logs go). */
export async function captureStderr<T>(fn: () => Promise<T>): Promise<{ value: T; output: string }> {
  const original = process.stderr.write.bind(process.stderr);
  let output = "";
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    output += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    void rest;
    return true;
  });
  try {
    const value = await fn();
    return { value, output };
  } finally {
    process.stderr.write = original;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` with DASKFLOW_LOGGING_LEVEL set, restoring it after. */
export async function withLoggingLevel<T>(level: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.DASKFLOW_LOGGING_LEVEL;
  process.env.DASKFLOW_LOGGING_LEVEL = level;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.DASKFLOW_LOGGING_LEVEL;
    else process.env.DASKFLOW_LOGGING_LEVEL = before;
  }
}
