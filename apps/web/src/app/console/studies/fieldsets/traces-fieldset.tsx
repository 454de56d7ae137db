'use client'
// Senior and junior traces: how the senior's traces are sampled (and paced, when live), and how many samples the
// junior takes on each study item (the junior finishing the same cut traces participants finish).
import { Field, fieldAria } from '@/components/form-field'
import { MAX_JUNIOR_SAMPLES } from '@/server/api/routers/studies.schema'

import { DesignSection, blankToUndefined, useDesignForm } from './form-context'

const NUMBER_FIELDS = [
  { name: 'temperature', label: 'Temperature', hint: 'Sampling temperature, 0–2.', decimal: true },
  { name: 'maxNewTokens', label: 'Max new tokens', hint: 'Longest senior trace, 8–1024 tokens.', decimal: false },
  {
    name: 'liveTokensPerSecond',
    label: 'Live reading pace (tokens/s)',
    hint: "Live conditions only: the senior's words reach the participant at most this fast, so they can read along (0 = as generated).",
    decimal: true,
  },
  {
    name: 'juniorSamples',
    label: 'Junior samples per item',
    hint: `1–${MAX_JUNIOR_SAMPLES}. When the study opens, the junior finishes every pre-generated item this many times (same cut trace, same verifier), so its accuracy stands beside the participants'.`,
    decimal: false,
  },
] as const

export function TracesFieldset() {
  const { register, message } = useDesignForm()
  return (
    <DesignSection
      id="traces"
      title="Senior traces"
      description={
        <>
          At launch the worker samples one solo trace per condition and problem with these settings and stores it with its seed. A live
          condition&apos;s senior samples with the same temperature while the participant watches, within the same token budget.
        </>
      }
    >
      <div className="grid gap-4 sm:grid-cols-2">
        {NUMBER_FIELDS.map(({ name, label, hint, decimal }) => (
          <Field key={name} id={name} label={label} error={message(name)} hint={hint}>
            <input
              {...fieldAria(name, message(name), true)}
              className="input"
              type="number"
              inputMode={decimal ? 'decimal' : 'numeric'}
              step={decimal ? 'any' : 1}
              {...register(name, { setValueAs: blankToUndefined })}
            />
          </Field>
        ))}
      </div>
    </DesignSection>
  )
}
