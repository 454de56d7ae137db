// A text coloured by who wrote each part (senior or junior), with the author named for screen readers: the trace
// viewer and the run page's rollouts draw it the same way.
import { AUTHOR_STYLE, authorPieces } from './trace-segments'

export function AuthorText({ text, spans }: { text: string; spans: Parameters<typeof authorPieces>[1] }) {
  return (
    <>
      {authorPieces(text, spans).map((piece, i) =>
        piece.value === null ? (
          <span key={i}>{piece.text}</span>
        ) : (
          <span key={i} className={`rounded-sm ${AUTHOR_STYLE[piece.value].className}`} data-author={piece.value} title={AUTHOR_STYLE[piece.value].label}>
            <span className="sr-only">[{AUTHOR_STYLE[piece.value].label}:] </span>
            {piece.text}
          </span>
        ),
      )}
    </>
  )
}
