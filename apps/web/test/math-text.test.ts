// MathText renders untrusted model text: markup in it must come out as text, math through KaTeX (trust off),
// and malformed or hostile math must neither throw nor inject anything.
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, test } from 'vitest'

import { MathText, splitMath } from '@/components/math-text'

const render = (text: string) => renderToStaticMarkup(createElement(MathText, { text }))

describe('splitMath', () => {
  test('finds each kind of delimiter and keeps the text between', () => {
    expect(splitMath('a $x^2$ b $$\\frac12$$ c \\(y\\) d \\[z\\] e \\boxed{\\frac{1}{2}}')).toEqual([
      { kind: 'text', text: 'a ' },
      { kind: 'math', tex: 'x^2', display: false, source: '$x^2$' },
      { kind: 'text', text: ' b ' },
      { kind: 'math', tex: '\\frac12', display: true, source: '$$\\frac12$$' },
      { kind: 'text', text: ' c ' },
      { kind: 'math', tex: 'y', display: false, source: '\\(y\\)' },
      { kind: 'text', text: ' d ' },
      { kind: 'math', tex: 'z', display: true, source: '\\[z\\]' },
      { kind: 'text', text: ' e ' },
      { kind: 'math', tex: '\\boxed{\\frac{1}{2}}', display: false, source: '\\boxed{\\frac{1}{2}}' },
    ])
  })

  test('prices, escaped dollars and unclosed delimiters stay text', () => {
    for (const text of ['it costs $5 and $6', 'a \\$ sign and $ alone', 'open $$ never closed', '\\boxed{12', '\\( half']) {
      expect(splitMath(text)).toEqual([{ kind: 'text', text }])
    }
  })

  test('bare \\frac{…}{…} and \\sqrt{…}, as models write them without delimiters, are math; incomplete ones stay text', () => {
    expect(splitMath('half is \\frac{1}{2}, root \\sqrt{2} and \\dfrac{a}{b}.')).toEqual([
      { kind: 'text', text: 'half is ' },
      { kind: 'math', tex: '\\frac{1}{2}', display: false, source: '\\frac{1}{2}' },
      { kind: 'text', text: ', root ' },
      { kind: 'math', tex: '\\sqrt{2}', display: false, source: '\\sqrt{2}' },
      { kind: 'text', text: ' and ' },
      { kind: 'math', tex: '\\dfrac{a}{b}', display: false, source: '\\dfrac{a}{b}' },
      { kind: 'text', text: '.' },
    ])
    for (const text of ['\\frac{1}', '\\frac{1} {2}', '\\frac12', '\\fraction{1}{2}', '\\sqrt{2']) {
      expect(splitMath(text)).toEqual([{ kind: 'text', text }])
    }
  })

  test('nested braces inside \\boxed are kept whole', () => {
    const [first] = splitMath('\\boxed{{a}{b{c}}} rest')
    expect(first).toMatchObject({ kind: 'math', source: '\\boxed{{a}{b{c}}}' })
  })

  test('stays linear on many unclosed openers', () => {
    const text = '$$ ' + '\\( \\[ \\boxed{ $a '.repeat(20_000)
    const started = performance.now()
    expect(splitMath(text)).toEqual([{ kind: 'text', text }])
    expect(performance.now() - started).toBeLessThan(2000)
  })
})

describe('MathText', () => {
  test('typesets math with KaTeX', () => {
    const html = render('so $x^2$ and \\boxed{42}')
    expect(html).toContain('class="katex"')
    expect(html).toContain('<math') // MathML for screen readers
    expect(html).toContain('so ')
  })

  test("the senior's answer line: \\boxed{…} with a fraction inside is typeset as one piece", () => {
    const html = render('So the answer is \\boxed{\\frac{3}{4}}.')
    expect(html.match(/class="katex"/g)).toHaveLength(1)
    expect(html).toContain('notation="box"')
    expect(html).toContain('<mfrac>')
  })

  test('<script> and <img onerror> in model text render as text', () => {
    const html = render('<script>alert(1)</script> then <img src=x onerror="alert(2)"> and **bold**')
    expect(html).not.toContain('<script')
    expect(html).not.toContain('<img')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;')
  })

  test('markup inside math does not become markup either', () => {
    const html = render('$<img src=x onerror=alert(1)>$ and \\(\\href{javascript:alert(1)}{click}\\) and $\\url{javascript:alert(2)}$')
    expect(html).not.toContain('<img')
    expect(html).not.toContain('<a ')
    expect(html).not.toMatch(/href="javascript/i)
  })

  test('malformed math renders without throwing', () => {
    for (const text of ['$\\frac{1}{$', '$\\undefinedmacro{x}$', '\\boxed{\\left( 1}', '$$\\begin{matrix}$$', '$x^^^2$']) {
      expect(() => render(text)).not.toThrow()
      expect(render(text)).not.toContain('<script')
    }
  })

  test('macro bombs are cut off instead of hanging the page', () => {
    const bomb = '$\\def\\a{\\b\\b}\\def\\b{\\c\\c}\\def\\c{\\d\\d}\\def\\d{\\e\\e}\\def\\e{\\f\\f}\\def\\f{xx}\\a\\a\\a\\a\\a\\a\\a\\a\\a$'
    const started = performance.now()
    expect(() => render(bomb)).not.toThrow()
    expect(performance.now() - started).toBeLessThan(2000)
  })
})
