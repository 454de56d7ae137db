// A participant's session: /take/<token> (the token is the credential; only its hash is stored).
import { TakeSession } from './take-session'

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment // malformed escapes: the server answers "not a valid link"
  }
}

export default async function TakePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  return <TakeSession token={decoded(token)} />
}
