// Problems and answers as people read them: math in the problem text ($…$, \(…\), \boxed{…}) is typeset by the
// shared MathText; an answer is one math expression, so a TeX-looking answer ("\frac{1}{2}", "2^{10}") is
// typeset as a whole, and a plain one ("42") stays plain text.
import { MathText } from '@/components/math-text'

const TEX_HINT = /[\\^_{}]/

export function ProblemText({ text }: { text: string }) {
  return <MathText text={text} className="block max-w-prose min-w-[16rem] text-sm leading-relaxed" />
}

export function AnswerText({ answer }: { answer: string }) {
  const tex = TEX_HINT.test(answer) && !answer.includes('$')
  return <MathText text={tex ? `$${answer}$` : answer} className="font-medium" />
}
