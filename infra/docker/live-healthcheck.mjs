// Container health check of the live image: exit 0 when the live service answers GET /health with
// HTTP 200 and a JSON body whose `ok` is true, else 1. LIVE_PORT is the service's port (default 8790).
// It asks 127.0.0.1: keep LIVE_HOST at 0.0.0.0 (the image's default) or 127.0.0.1 in a container.
const port = process.env.LIVE_PORT || '8790'
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) })
  const body = await res.json().catch(() => null)
  if (res.status !== 200 || body?.ok !== true) {
    console.error(`GET /health: HTTP ${res.status} ${JSON.stringify(body)}`)
    process.exit(1)
  }
  process.exit(0)
} catch (err) {
  console.error(`GET /health: ${err?.message ?? err}`)
  process.exit(1)
}
