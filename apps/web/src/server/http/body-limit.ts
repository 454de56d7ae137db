// Request bodies are read with a byte cap before anything parses them: a declared Content-Length over the cap is
// refused unread, and a chunked body is cut off as soon as it passes the cap (the caps: ../limits.ts BODY_LIMITS).

export class BodyTooLarge extends Error {
  override name = 'BodyTooLarge'
  constructor(readonly maxBytes: number) {
    super(`The request body is larger than ${maxBytes} bytes`)
  }
}

/** The body's bytes, at most `maxBytes` of them; throws BodyTooLarge past that. */
export async function readBodyWithin(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLarge(maxBytes)
  if (!request.body) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => {})
      throw new BodyTooLarge(maxBytes)
    }
    chunks.push(value)
  }
  const body = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

/** A copy of `request` whose body is the bytes already read (so a handler can parse it as usual). */
export function withBody(request: Request, body: Uint8Array<ArrayBuffer>): Request {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
  return new Request(request.url, { method: request.method, headers: request.headers, body: hasBody ? body : undefined, signal: request.signal })
}

/** The 413 for route handlers. */
export function payloadTooLarge(error: BodyTooLarge): Response {
  return new Response(`${error.message}\n`, { status: 413, headers: { 'cache-control': 'no-store' } })
}
