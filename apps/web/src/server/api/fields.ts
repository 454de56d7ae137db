// Fields with the messages every form shows ("Seed is required", "… must be a whole number"). Pure zod:
// the input schemas that use these are shared with the client forms.
import { z } from 'zod'

export const requiredNumber = (label: string) =>
  z.number({ error: (issue) => (issue.input === undefined ? `${label} is required` : `${label} must be a number`) })

export const wholeNumber = (label: string, min: number, max: number) =>
  requiredNumber(label)
    .int(`${label} must be a whole number`)
    .min(min, `${label} must be at least ${min}`)
    .max(max, `${label} must be at most ${max}`)

/** An account's e-mail address, as typed into a form: trimmed, lower-cased, at most 254 characters. */
export const emailAddress = () =>
  z
    .string({ error: 'Enter an e-mail address' })
    .trim()
    .toLowerCase()
    .max(254, 'At most 254 characters')
    .pipe(z.email({ error: 'Enter a valid e-mail address' }))
