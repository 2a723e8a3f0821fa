import type { z } from 'zod';
import { PunchError } from '../errors.js';
import { fromUtf8 } from '../encoding.js';
import { MAX_BODY_BYTES } from '../wire/http.js';
import { describeIssues } from '../wire/messages.js';

/**
 * Reads a JSON request body through `schema`: size checked while reading (never buffered past
 * the limit), content type checked, then parsed, never cast. An empty body parses as `{}` when
 * `emptyAs` is given.
 */
export async function readJson<T extends z.ZodType>(
  req: Request,
  schema: T,
  emptyAs?: unknown,
): Promise<z.infer<T>> {
  const length = req.headers.get('content-length');
  if (length !== null && Number(length) > MAX_BODY_BYTES) {
    throw new PunchError(
      'ERR_PAYLOAD_TOO_LARGE',
      `a request body is at most ${MAX_BODY_BYTES} bytes`,
    );
  }
  const bytes = await readLimited(req, MAX_BODY_BYTES);
  let value: unknown;
  if (bytes.byteLength === 0) {
    if (emptyAs === undefined) throw new PunchError('ERR_BAD_REQUEST', 'a JSON body is required');
    value = emptyAs;
  } else {
    const type = req.headers.get('content-type') ?? '';
    if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
      throw new PunchError('ERR_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    }
    try {
      value = JSON.parse(fromUtf8(bytes));
    } catch (cause) {
      throw new PunchError('ERR_BAD_REQUEST', 'the body is not valid JSON', { cause });
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new PunchError('ERR_BAD_REQUEST', describeIssues(parsed.error));
  return parsed.data;
}

async function readLimited(req: Request, limit: number): Promise<Uint8Array> {
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await nextChunk(reader);
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new PunchError('ERR_PAYLOAD_TOO_LARGE', `a request body is at most ${limit} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/**
 * One chunk of a request body. A body stream fails only when the client went away mid-body
 * (Node: `Error: aborted`, ECONNRESET): that is the client's doing, not a fault of ours, so it
 * becomes a PunchError (answered, never logged as a server error with a stack).
 */
async function nextChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  try {
    return await reader.read();
  } catch (cause) {
    throw new PunchError(
      'ERR_BAD_REQUEST',
      'the request body ended early: the client closed the connection',
      { cause },
    );
  }
}
