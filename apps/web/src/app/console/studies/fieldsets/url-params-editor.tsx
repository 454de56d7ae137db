'use client'
// The accepted URL parameters as a list of inputs; the first one names the participant.
import { Controller } from 'react-hook-form'

import { PROLIFIC_PARAMS } from '@/server/api/routers/studies.schema'

import { useDesignForm } from './form-context'

export function UrlParamsEditor() {
  const { control, errors, message } = useDesignForm()
  const listError = message('urlParams')
  return (
    <Controller
      control={control}
      name="urlParams"
      render={({ field }) => {
        const value = field.value ?? []
        const onChange = field.onChange
        return (
          <fieldset className="space-y-2" aria-describedby={listError ? 'urlParams-error' : 'urlParams-hint'}>
            <legend className="label">Accepted URL parameters</legend>
            <p id="urlParams-hint" className="text-xs text-slate-600">
              Read from the study link and stored with the participant. The first one names the participant (their id on the recruiting
              platform, e.g. PROLIFIC_PID); a second visit with the same id resumes the same session.
            </p>
            {value.length === 0 ? <p className="text-sm text-slate-600">None: participants are anonymous.</p> : null}
            <ol className="space-y-2">
              {value.map((param, i) => {
                const id = `urlParams-${i}`
                const error = message(`urlParams.${i}`)
                const invalid = !!error || !!listError
                return (
                  <li key={i} className="flex flex-wrap items-start gap-2">
                    <div className="min-w-0 flex-1">
                      <label htmlFor={id} className="sr-only">
                        URL parameter {i + 1}
                        {i === 0 ? ' (names the participant)' : ''}
                      </label>
                      <div className="flex items-center gap-2">
                        <input
                          id={id}
                          className="input font-mono"
                          autoComplete="off"
                          value={param}
                          aria-invalid={invalid ? true : undefined}
                          aria-describedby={error ? `${id}-error` : listError ? 'urlParams-error' : undefined}
                          onChange={(e) => onChange(value.map((p, j) => (j === i ? e.target.value : p)))}
                        />
                        {i === 0 ? <span className="shrink-0 text-xs text-slate-600">participant id</span> : null}
                      </div>
                      {error ? (
                        <p id={`${id}-error`} className="field-error" data-testid={`${id}-error`}>
                          {error}
                        </p>
                      ) : null}
                    </div>
                    <button
                      type="button"
                      className="btn-secondary"
                      onClick={() => onChange(value.filter((_, j) => j !== i))}
                      aria-label={`Remove URL parameter ${param || i + 1}`}
                    >
                      Remove
                    </button>
                  </li>
                )
              })}
            </ol>
            {listError ? (
              <p id="urlParams-error" className="field-error" data-testid="urlParams-error">
                {listError}
              </p>
            ) : null}
            <div className="flex flex-wrap gap-2">
              <button type="button" className="btn-secondary" disabled={value.length >= 10} onClick={() => onChange([...value, ''])}>
                Add parameter
              </button>
              <button type="button" className="btn-secondary" onClick={() => onChange([...PROLIFIC_PARAMS])}>
                Reset to Prolific’s
              </button>
            </div>
            {errors.urlParams && !listError && !value.some((_, i) => message(`urlParams.${i}`)) ? (
              <p className="field-error">Check the URL parameters.</p>
            ) : null}
          </fieldset>
        )
      }}
    />
  )
}
