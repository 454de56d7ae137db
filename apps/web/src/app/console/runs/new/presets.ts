// The trainer's named presets (@tandem/config/presets.json, generated from config.PRESETS) as launch-form values.
// Pure, so the form's "Paper settings" button and its unit test share one definition of what a preset fills.
import presetsJson from '@tandem/config/presets.json'

import { CONFIG_FIELDS, type ConfigField } from '@/server/api/routers/runs.schema'

export type PresetName = keyof typeof presetsJson
export const PRESETS = presetsJson as Record<PresetName, Record<string, number | string | boolean | null>>

/** A config value as the form's inputs hold it: numbers (NaN = unset), choice strings, 'auto' for unset booleans. */
export function formValue(field: ConfigField, value: number | string | boolean | null): unknown {
  if (field.type === 'bool') return value === null ? 'auto' : String(value)
  if (field.type === 'int' || field.type === 'float') return value === null ? Number.NaN : value
  return value ?? ''
}

/**
 * The form values a preset sets, by field name: only fields the form shows (a preset field the form does not know
 * is an error, so a renamed config field cannot be dropped silently). With `grpo`, p_junior stays 0: the GRPO arm
 * of a preset is the same settings with the senior writing alone.
 */
export function presetFormValues(name: PresetName, { grpo = false }: { grpo?: boolean } = {}): Record<string, unknown> {
  const preset = PRESETS[name]
  if (!preset) throw new Error(`unknown preset ${String(name)}`)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(preset)) {
    const field = CONFIG_FIELDS.find((f) => f.name === key)
    if (!field) throw new Error(`preset ${name}: ${key} is not a launch form field`)
    if (grpo && key === 'p_junior') continue
    out[key] = formValue(field, value)
  }
  return out
}
