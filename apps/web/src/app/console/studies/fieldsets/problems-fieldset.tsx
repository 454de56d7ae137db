'use client'
// Problems: the dataset, how many of its problems (a seeded sample) and the seed.
import { Field, fieldAria } from '@/components/form-field'

import type { DatasetOption } from '../design-defaults'
import { DesignSection, blankToUndefined, useDesignForm } from './form-context'
import { DatasetOptions } from '@/components/dataset-options'

export function ProblemsFieldset({ datasets }: { datasets: DatasetOption[] }) {
  const { register, watch, message } = useDesignForm()
  const dataset = datasets.find((d) => d.id === watch('datasetId'))
  return (
    <DesignSection id="problems" title="Problems">
      <div className="grid gap-4 sm:grid-cols-3">
        <Field id="datasetId" label="Dataset" error={message('datasetId')}>
          <select {...fieldAria('datasetId', message('datasetId'))} className="input" {...register('datasetId')}>
            <DatasetOptions datasets={datasets} />
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
