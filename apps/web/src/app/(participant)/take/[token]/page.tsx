// An old-style session link, /take/<token> (copied or bookmarked before the token left the URL): the token moves to
// this tab's sessionStorage and the address becomes /take, so it stays out of history, Referer and later requests.
import { AdoptToken } from './adopt-token'

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment // malformed escapes: the server answers "not a valid link"
  }
}

export default async function TakeTokenPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  return <AdoptToken token={decoded(token)} />
}
