'use client'
// The handoff rule: where the senior's reasoning stops and the participant takes over (after step k, or at fraction f).
import { Field, fieldAria } from '@/components/form-field'

import { DesignSection, blankToUndefined, useDesignForm } from './form-context'

export function HandoffFieldset() {
  const { register, watch, message } = useDesignForm()
  const ruleKind = watch('handoffRule.kind')
  return (
    <DesignSection id="handoff" title="Handoff">
      <fieldset className="space-y-3">
        <legend className="label">Where the senior’s reasoning stops and the participant takes over</legend>
        <div className="space-y-2">
          <label className="flex items-start gap-2 text-sm">
            <input type="radio" className="mt-0.5" value="step" {...register('handoffRule.kind')} />
            <span>
              <span className="font-medium">After step k</span>{' '}
              <span className="text-slate-600">— the participant sees the senior’s first k reasoning steps (k = 0: none).</span>
            </span>
          </label>
          <label className="flex items-start gap-2 text-sm">
            <input type="radio" className="mt-0.5" value="fraction" {...register('handoffRule.kind')} />
            <span>
              <span className="font-medium">At fraction f</span>{' '}
              <span className="text-slate-600">— the participant sees that share (0–1) of the steps of the senior’s solo trace.</span>
            </span>
          </label>
        </div>
        {ruleKind === 'fraction' ? (
          <Field id="handoffRule-f" label="Fraction f (0–1)" error={message('handoffRule.f')} className="max-w-xs">
            <input
              {...fieldAria('handoffRule-f', message('handoffRule.f'))}
              className="input"
              type="number"
              inputMode="decimal"
              step="any"
              {...register('handoffRule.f', { setValueAs: blankToUndefined })}
            />
          </Field>
        ) : (
          <Field id="handoffRule-k" label="Step k" error={message('handoffRule.k')} className="max-w-xs">
            <input
              {...fieldAria('handoffRule-k', message('handoffRule.k'))}
              className="input"
              type="number"
              inputMode="numeric"
              step={1}
              {...register('handoffRule.k', { setValueAs: blankToUndefined })}
            />
          </Field>
        )}
      </fieldset>
    </DesignSection>
  )
}
