// Why a comparison cannot be shown (unknown, repeated, too few or too many ids), with the way back to its list.
import Link from 'next/link'

export function CompareError({ noun, messages, backHref }: { noun: 'runs' | 'evaluations'; messages: readonly string[]; backHref: string }) {
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold">Compare {noun}</h1>
      <div role="alert" className="card space-y-2 text-sm text-red-800" data-testid="compare-error">
        <p className="font-medium">These {noun} cannot be compared:</p>
        <ul className="list-disc pl-5">
          {messages.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      </div>
      <Link href={backHref} className="btn-secondary">
        Back to {noun}
      </Link>
    </div>
  )
}
