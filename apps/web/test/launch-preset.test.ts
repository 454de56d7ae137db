// The launch form's preset buttons: what the trainer's presets (presets.json) fill in, as form values.
import fieldsJson from '@tandem/config/fields.json'
import presetsJson from '@tandem/config/presets.json'
import { describe, expect, test } from 'vitest'

import { PRESETS, formValue, presetFormValues } from '@/app/console/runs/new/presets'
import { CONFIG_FIELDS, launchPairSchema, launchRunSchema } from '@/server/api/routers/runs.schema'

const field = (name: string) => CONFIG_FIELDS.find((f) => f.name === name)!

describe('paper preset', () => {
  test('fills the paper training settings as the inputs hold them', () => {
    const values = presetFormValues('paper')
    expect(values).toMatchObject({
      temperature: 0.6, beta: 0, num_generations: 8, per_device_train_batch_size: 128, epsilon: 0.2,
      scale_rewards: 'group', loss_type: 'dapo', handoff_rule: 'paper', p_junior: 0.5, max_gap_tokens: 32,
      junior_token_weight: 0,
    })
    expect(Number.isNaN(values.epsilon_high)).toBe(true) // null: the same as epsilon, an empty number box
    expect(Object.keys(values).sort()).toEqual(Object.keys(presetsJson.paper).sort())
    expect(values).not.toHaveProperty('learning_rate')
  })

  test('every preset field is a field the form shows, with an allowed value', () => {
    const launchable = new Set((fieldsJson as { name: string; launch: boolean }[]).filter((f) => f.launch).map((f) => f.name))
    for (const [name, value] of Object.entries(PRESETS.paper)) {
      expect(launchable.has(name)).toBe(true)
      const f = field(name)
      if (f.choices) expect(f.choices).toContain(value)
    }
  })

  test('the filled form passes the launch schemas (TRL run, pair) and keeps p_junior 0 for a GRPO run', () => {
    const base = { name: 'paper', baseModelId: 'm', datasetId: 'd', max_steps: 10, learning_rate: 1e-5, seed: 0 }
    const trl = launchRunSchema.safeParse({ ...base, algorithm: 'TRL', ...presetFormValues('paper') })
    expect(trl.success).toBe(true)
    expect(trl.data).toMatchObject({ handoff_rule: 'paper', junior_token_weight: 0, epsilon_high: null, beta: 0 })
    expect(launchPairSchema.safeParse({ ...base, ...presetFormValues('paper') }).success).toBe(true)

    const grpoValues = presetFormValues('paper', { grpo: true })
    expect(grpoValues).not.toHaveProperty('p_junior')
    const grpo = launchRunSchema.safeParse({ ...base, algorithm: 'GRPO', p_junior: 0, ...grpoValues })
    expect(grpo.success).toBe(true)
  })

  test('formValue maps unset values to what each input holds', () => {
    expect(formValue(field('bf16'), null)).toBe('auto')
    expect(formValue(field('bf16'), true)).toBe('true')
    expect(Number.isNaN(formValue(field('epsilon_high'), null))).toBe(true)
    expect(formValue(field('handoff_rule'), 'chunk')).toBe('chunk')
  })
})

describe('handoff fields', () => {
  const base = {
    name: 'r', baseModelId: 'm', datasetId: 'd', max_steps: 10, learning_rate: 1e-5, seed: 0, algorithm: 'TRL',
    num_generations: 8, per_device_train_batch_size: 32,
  }
  test('step granularity is refused with any rule but whole_word, naming the field (as the trainer does)', () => {
    const bad = launchRunSchema.safeParse({ ...base, handoff_rule: 'paper', handoff_granularity: 'step' })
    expect(bad.success).toBe(false)
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toContain('handoff_granularity')
    expect(launchRunSchema.safeParse({ ...base, handoff_granularity: 'step' }).success).toBe(false) // default rule: paper
    expect(launchRunSchema.safeParse({ ...base, handoff_rule: 'whole_word', handoff_granularity: 'step' }).success).toBe(true)
  })
  test('junior_token_weight is a weight in [0, 1]; empty is unset', () => {
    for (const w of [0, 0.25, 1]) expect(launchRunSchema.safeParse({ ...base, junior_token_weight: w }).success).toBe(true)
    expect(launchRunSchema.safeParse({ ...base, junior_token_weight: 1.5 }).success).toBe(false)
    expect(launchRunSchema.safeParse({ ...base, junior_token_weight: Number.NaN }).data).toMatchObject({ junior_token_weight: null })
  })
})
