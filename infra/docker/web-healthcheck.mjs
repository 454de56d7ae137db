// Container health check of the web image: exit 0 when the Next.js server answers an HTTP request
// without a server error (a redirect to the sign-in page counts as healthy), else 1.
// TANDEM_HEALTH_PATH picks the path (default "/"); PORT is the server's port (default 3000).
const port = process.env.PORT || '3000'
const path = process.env.TANDEM_HEALTH_PATH || '/'
try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    redirect: 'manual',
    signal: AbortSignal.timeout(4000),
  })
  if (res.status >= 500) {
    console.error(`GET ${path}: HTTP ${res.status}`)
    process.exit(1)
  }
  process.exit(0)
} catch (err) {
  console.error(`GET ${path}: ${err?.message ?? err}`)
  process.exit(1)
}
