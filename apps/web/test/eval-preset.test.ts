// The evaluation form's "Paper settings": the values come from the trainer's evaluate.PRESETS (generated JSON), are
// evaluation settings the schema knows, and pass its validation; top_p / top_k reach the settings with their bounds.
import { describe, expect, it } from 'vitest'

import { EVAL_DEFAULTS, EVAL_PRESETS, evalPresetValues, evalSettingsSchema } from '@/server/api/routers/evaluations.schema'

const settings = (over: Record<string, unknown> = {}) => ({ ...EVAL_DEFAULTS, ...over })

describe('evaluation presets', () => {
  it('paper is the paper’s evaluation sampling', () => {
    expect(evalPresetValues('paper')).toEqual({ temperature: 0.7, top_p: 0.8, top_k: 20 })
  })

  it('every preset names only settings the form has, and passes the schema', () => {
    for (const name of Object.keys(EVAL_PRESETS)) {
      const parsed = evalSettingsSchema.safeParse(settings(evalPresetValues(name)))
      expect(parsed.success, name).toBe(true)
    }
  })

  it('an unknown preset is an error', () => {
    expect(() => evalPresetValues('papr')).toThrow(/unknown evaluation preset papr/)
  })

  it('top_p and top_k are checked and named', () => {
    const bad = evalSettingsSchema.safeParse(settings({ top_p: 0, top_k: -1 }))
    expect(bad.success).toBe(false)
    const messages = bad.error!.issues.map((i) => i.message)
    expect(messages).toContain('top_p must be above 0')
    expect(messages.some((m) => m.startsWith('top_k'))).toBe(true)
    expect(evalSettingsSchema.parse(settings()).top_k).toBe(0)
  })
})
