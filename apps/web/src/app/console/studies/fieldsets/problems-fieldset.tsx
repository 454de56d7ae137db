'use client'
// Problems: the dataset, how many of its problems (a seeded sample) and the seed.
import { Field, fieldAria } from '@/components/form-field'

import type { DatasetOption } from '../design-defaults'
import { DesignSection, blankToUndefined, useDesignForm } from './form-context'

export function ProblemsFieldset({ datasets }: { datasets: DatasetOption[] }) {
  const { register, watch, message } = useDesignForm()
  const dataset = datasets.find((d) => d.id === watch('datasetId'))
  return (
    <DesignSection id="problems" title="Problems">
      <div className="grid gap-4 sm:grid-cols-3">
        <Field id="datasetId" label="Dataset" error={message('datasetId')}>
          <select {...fieldAria('datasetId', message('datasetId'))} className="input" {...register('datasetId')}>
            {datasets.length === 0 ? <option value="">(no datasets registered)</option> : null}
            {datasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({d.rowCount} problems)
              </option>
            ))}
          </select>
        </Field>
        <Field
          id="problemCount"
          label="Number of problems"
          error={message('problemCount')}
          hint={`A seeded sample of the dataset${dataset ? ` (at most ${dataset.rowCount})` : ''}; every condition gets the same problems.`}
        >
          <input
            {...fieldAria('problemCount', message('problemCount'), true)}
            className="input"
            type="number"
            inputMode="numeric"
            step={1}
            {...register('problemCount', { setValueAs: blankToUndefined })}
          />
        </Field>
        <Field id="seed" label="Seed" error={message('seed')} hint="Picks the problems and seeds the senior traces.">
          <input
            {...fieldAria('seed', message('seed'), true)}
            className="input"
            type="number"
            inputMode="numeric"
            step={1}
            {...register('seed', { setValueAs: blankToUndefined })}
          />
        </Field>
      </div>
    </DesignSection>
  )
}
