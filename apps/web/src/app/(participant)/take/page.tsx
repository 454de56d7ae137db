// A participant's session: /take, with the session token in this tab's sessionStorage (put there by the study link
// or by an old /take/<token> link), never in the URL. The token is the credential; only its hash is stored.
import { TakeSession } from './take-session'

export default function TakePage() {
  return <TakeSession />
}
